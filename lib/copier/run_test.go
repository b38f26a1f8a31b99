package copier

import (
	"bytes"
	"context"
	"errors"
	"io"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
	"github.com/s3pipe/s3pipe/lib/record"
	"github.com/s3pipe/s3pipe/lib/stream"
	"github.com/s3pipe/s3pipe/lib/tsv"
)

// refuseAPI answers every call with an error, so only rows that need no
// S3 call succeed.
type refuseAPI struct{ code string }

func (f refuseAPI) err() error {
	return &smithy.GenericAPIError{Code: f.code, Message: "refused by the fake"}
}
func (f refuseAPI) HeadObject(context.Context, *s3.HeadObjectInput, ...func(*s3.Options)) (*s3.HeadObjectOutput, error) {
	return nil, f.err()
}
func (f refuseAPI) GetObject(context.Context, *s3.GetObjectInput, ...func(*s3.Options)) (*s3.GetObjectOutput, error) {
	return nil, f.err()
}
func (f refuseAPI) GetObjectTagging(context.Context, *s3.GetObjectTaggingInput, ...func(*s3.Options)) (*s3.GetObjectTaggingOutput, error) {
	return nil, f.err()
}
func (f refuseAPI) PutObject(context.Context, *s3.PutObjectInput, ...func(*s3.Options)) (*s3.PutObjectOutput, error) {
	return nil, f.err()
}
func (f refuseAPI) CopyObject(context.Context, *s3.CopyObjectInput, ...func(*s3.Options)) (*s3.CopyObjectOutput, error) {
	return nil, f.err()
}
func (f refuseAPI) UploadPart(context.Context, *s3.UploadPartInput, ...func(*s3.Options)) (*s3.UploadPartOutput, error) {
	return nil, f.err()
}
func (f refuseAPI) UploadPartCopy(context.Context, *s3.UploadPartCopyInput, ...func(*s3.Options)) (*s3.UploadPartCopyOutput, error) {
	return nil, f.err()
}
func (f refuseAPI) ListParts(context.Context, *s3.ListPartsInput, ...func(*s3.Options)) (*s3.ListPartsOutput, error) {
	return nil, f.err()
}

const (
	skipRow = "k\te\t1\t\\N\t\\N\t\\N\tsrc\tdst\t\\N\t\\N\t\\N\t0\t1\tsize\tskip\tdelete marker\n"
	failRow = "k2\te\t1\t\\N\t\\N\t\\N\tsrc\tdst\t\\N\t\\N\t\\N\t0\t1\tsize\tfail\tNoSuchKey: source not found\n"
	copyRow = "k3\te\t1\t\\N\t\\N\t\\N\tsrc\tdst\t\\N\t\\N\t\\N\t0\t1\tetag\tcopy\t\\N\n"
)

func runRows(t testing.TB, code, in string) ([]record.Result, error) {
	c := New(Config{Mode: ModeStream, Attempts: 1}, refuseAPI{code}, refuseAPI{code}, nil, nil)
	var out bytes.Buffer
	err := Run(context.Background(), c, tsv.NewReader(strings.NewReader(in)), &out, 4)
	r := tsv.NewReader(&out)
	var rs []record.Result
	for {
		f, rerr := r.Read()
		if rerr == io.EOF {
			return rs, err
		}
		if rerr != nil {
			t.Fatal(rerr)
		}
		var x record.Result
		if perr := record.ParseResult(f, &x); perr != nil {
			t.Fatalf("result row: %v", perr)
		}
		rs = append(rs, x)
	}
}

func TestRunRows(t *testing.T) {
	cases := []struct {
		name, code, in string
		exit           int
		msg            string
		statuses       string
	}{
		{"skip and fail pass through", "NoSuchKey", skipRow + failRow, 1, "", "failed skipped"},
		{"per-object error becomes a row", "NoSuchKey", copyRow, 1, "", "failed"},
		{"fatal error stops the run", "InvalidAccessKeyId", copyRow, 3, "", "failed"},
		{"bad column count", "", skipRow + "a\tb\n", 2, "line 2: wrong number of columns", "skipped"},
		{"bad action", "", strings.Replace(skipRow, "skip", "jump", 1), 2, "line 1, column 15", ""},
		{"bad part row", "", strings.Replace(skipRow, "skip", "part", 1), 2, "line 1, column 15", ""},
		{"bad escape", "", skipRow + skipRow + "k\\q\n", 2, "line 3", "skipped skipped"},
		{"bad offset", "", strings.Replace(skipRow, "\t0\t1\t", "\t1\t1\t", 1), 2, "line 1, column 13", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rs, err := runRows(t, c.code, c.in)
			exit, msg := stream.ExitCode(err)
			if exit != c.exit || !strings.Contains(msg, c.msg) {
				t.Errorf("exit %d %q, want %d containing %q", exit, msg, c.exit, c.msg)
			}
			var st []string
			for _, r := range rs {
				st = append(st, r.Status)
				if r.Status == record.StatusFailed && r.ErrorCode == "" {
					t.Errorf("failed row without an error code: %+v", r)
				}
			}
			sort.Strings(st) // results come in completion order
			if got := strings.Join(st, " "); c.exit != 2 && got != c.statuses || c.exit == 2 && len(rs) != len(strings.Fields(c.statuses)) {
				t.Errorf("statuses %q, want %q", got, c.statuses)
			}
		})
	}
}

func TestFailNote(t *testing.T) {
	rs, _ := runRows(t, "", failRow)
	if len(rs) != 1 || rs[0].ErrorCode != "NoSuchKey" || rs[0].Message != "source not found" {
		t.Errorf("%+v", rs)
	}
}

// FuzzPlanInput: s3copy's input path never panics, and every accepted row
// yields exactly one result row.
func FuzzPlanInput(f *testing.F) {
	for _, s := range []string{skipRow, failRow, copyRow, skipRow + "x\n", "\\N\n", "k\t\\N\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		rs, err := runRows(t, "NoSuchKey", in)
		var pe *tsv.ParseError
		if err != nil && !errors.Is(err, stream.ErrSomeFailed) && !errors.As(err, &pe) {
			t.Fatalf("unexpected error %v", err)
		}
		if err == nil && len(rs) != strings.Count(in, "\n")+btoi(!strings.HasSuffix(in, "\n") && in != "") {
			t.Fatalf("%d result rows for input %q", len(rs), in)
		}
	})
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}
