package batchops

import (
	"context"
	"crypto/md5"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"
)

// Task is one row of a completion report.
type Task struct {
	Bucket     string
	Key        string // decoded (see ReportReader.RawKeys)
	VersionID  string
	Status     string // succeeded or failed
	ErrorCode  string
	HTTPStatus int // 0 when the report leaves it empty
	Message    string
}

// Failed reports whether the task failed.
func (t *Task) Failed() bool { return strings.EqualFold(t.Status, "failed") }

// ReportReader reads a completion report CSV file (Report_CSV_20180820):
// Bucket, Key, VersionId, TaskStatus, ErrorCode, HTTPStatusCode, ResultMessage.
//
// The report's manifest lists ErrorCode before HTTPStatusCode, while the
// example rows in the S3 User Guide put the HTTP status first
// ("...,failed,200,PermanentFailure,..."). The reader takes whichever of
// columns 5 and 6 is a three-digit number as the HTTP status.
type ReportReader struct {
	// RawKeys takes keys as they are. By default they are URL-decoded (query
	// semantics), because the report echoes the URL-encoded keys of the
	// job's manifest.
	RawKeys bool

	r    *csv.Reader
	task Task
}

// NewReportReader reads from r.
func NewReportReader(r io.Reader) *ReportReader {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	// ResultMessage is free text from the operation (a Lambda function's
	// error, a Python repr of an SDK response): tolerate stray quotes in it.
	cr.LazyQuotes = true
	return &ReportReader{r: cr}
}

// Read returns the next task, or io.EOF. The Task is valid until the next
// call.
func (r *ReportReader) Read() (*Task, error) {
	f, err := r.r.Read()
	if err != nil {
		if err == io.EOF {
			return nil, err
		}
		return nil, fmt.Errorf("completion report: %w", err)
	}
	line, _ := r.r.FieldPos(0)
	if len(f) < 4 {
		return nil, fmt.Errorf("completion report: line %d: want at least Bucket, Key, VersionId, TaskStatus; got %d fields", line, len(f))
	}
	t := &r.task
	*t = Task{Bucket: f[0], Key: f[1], VersionID: f[2], Status: f[3]}
	if t.Bucket == "" || t.Key == "" {
		return nil, fmt.Errorf("completion report: line %d: empty bucket or key", line)
	}
	if !r.RawKeys {
		if t.Key, err = url.QueryUnescape(f[1]); err != nil {
			return nil, fmt.Errorf("completion report: line %d: key %q: bad URL encoding (read with raw keys if the report holds them unencoded): %w", line, f[1], err)
		}
	}
	var a, b string
	if len(f) > 4 {
		a = f[4]
	}
	if len(f) > 5 {
		b = f[5]
	}
	code, status := a, b
	if isHTTPStatus(a) && !isHTTPStatus(b) {
		code, status = b, a
	}
	t.ErrorCode = code
	if status != "" {
		if !isHTTPStatus(status) {
			return nil, fmt.Errorf("completion report: line %d: HTTP status %q is not a three-digit number", line, status)
		}
		t.HTTPStatus, _ = strconv.Atoi(status)
	}
	if len(f) > 6 {
		t.Message = strings.Join(f[6:], ",") // an unquoted message with commas
	}
	return t, nil
}

func isHTTPStatus(s string) bool {
	return len(s) == 3 && s[0] >= '1' && s[0] <= '5' && s[1] >= '0' && s[1] <= '9' && s[2] >= '0' && s[2] <= '9'
}

// ReportManifest is the manifest.json at the top of a completion report.
type ReportManifest struct {
	Format             string         `json:"Format"`
	ReportCreationDate string         `json:"ReportCreationDate"`
	Results            []ReportResult `json:"Results"`
	ReportSchema       string         `json:"ReportSchema"`
}

// ReportResult is one result file of a completion report.
type ReportResult struct {
	TaskExecutionStatus string `json:"TaskExecutionStatus"` // succeeded or failed
	Bucket              string `json:"Bucket"`
	MD5Checksum         string `json:"MD5Checksum"`
	Key                 string `json:"Key"`
}

// ParseReportManifest reads and checks a completion report's manifest.json.
func ParseReportManifest(r io.Reader) (*ReportManifest, error) {
	var m ReportManifest
	dec := json.NewDecoder(io.LimitReader(r, 64<<20))
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("completion report manifest: %w", err)
	}
	if m.Format != "Report_CSV_20180820" {
		return nil, fmt.Errorf("completion report manifest: format %q not supported (want Report_CSV_20180820)", m.Format)
	}
	for i, res := range m.Results {
		if res.Bucket == "" || res.Key == "" {
			return nil, fmt.Errorf("completion report manifest: Results[%d] has no Bucket or Key", i)
		}
		if len(res.MD5Checksum) != 32 {
			return nil, fmt.Errorf("completion report manifest: Results[%d] (%s): MD5Checksum %q is not 32 hex digits", i, res.Key, res.MD5Checksum)
		}
	}
	return &m, nil
}

// Fetcher opens one object; the CLI implements it with GetObject.
type Fetcher interface {
	Open(ctx context.Context, bucket, key string) (io.ReadCloser, error)
}

// ReadResults reads the result files of m (only those whose
// TaskExecutionStatus is failed when failedOnly) and calls fn for every task
// (every failed task when failedOnly). Each file's MD5 is checked before any
// of its rows is read: the file is fetched twice, as in package inventory.
func ReadResults(ctx context.Context, f Fetcher, m *ReportManifest, failedOnly, rawKeys bool, fn func(*Task) error) error {
	for _, res := range m.Results {
		if failedOnly && !strings.EqualFold(res.TaskExecutionStatus, "failed") {
			continue
		}
		name := "s3://" + res.Bucket + "/" + res.Key
		if err := verify(ctx, f, res, name); err != nil {
			return err
		}
		body, err := f.Open(ctx, res.Bucket, res.Key)
		if err != nil {
			return fmt.Errorf("open completion report %s: %w", name, err)
		}
		rr := NewReportReader(body)
		rr.RawKeys = rawKeys
		for {
			t, err := rr.Read()
			if err == io.EOF {
				break
			}
			if err != nil {
				body.Close()
				return fmt.Errorf("%s: %w", name, err)
			}
			if failedOnly && !t.Failed() {
				continue
			}
			if err := fn(t); err != nil {
				body.Close()
				return err
			}
		}
		body.Close()
	}
	return nil
}

func verify(ctx context.Context, f Fetcher, res ReportResult, name string) error {
	body, err := f.Open(ctx, res.Bucket, res.Key)
	if err != nil {
		return fmt.Errorf("open completion report %s: %w", name, err)
	}
	defer body.Close()
	h := md5.New()
	if _, err := io.Copy(h, body); err != nil {
		return fmt.Errorf("read completion report %s: %w", name, err)
	}
	if got := hex.EncodeToString(h.Sum(nil)); !strings.EqualFold(got, res.MD5Checksum) {
		return fmt.Errorf("completion report %s: MD5 %s, manifest says %s (corrupt or replaced)", name, got, res.MD5Checksum)
	}
	return nil
}
