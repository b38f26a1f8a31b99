package complete

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"golang.org/x/sync/errgroup"

	"github.com/s3pipe/s3pipe/lib/counters"
	"github.com/s3pipe/s3pipe/lib/record"
	"github.com/s3pipe/s3pipe/lib/s3err"
	"github.com/s3pipe/s3pipe/lib/tsv"
)

// CleanupAPI is the part of the S3 client cleanup mode calls.
type CleanupAPI interface {
	ListMultipartUploads(ctx context.Context, in *s3.ListMultipartUploadsInput, optFns ...func(*s3.Options)) (*s3.ListMultipartUploadsOutput, error)
	AbortMultipartUpload(ctx context.Context, in *s3.AbortMultipartUploadInput, optFns ...func(*s3.Options)) (*s3.AbortMultipartUploadOutput, error)
}

// Cleanup actions (column 4 of a cleanup row).
const (
	CleanupAborted     = "aborted"      // the upload was aborted
	CleanupWouldAbort  = "would-abort"  // --dry-run: it would have been
	CleanupTooYoung    = "kept-young"   // newer than --older-than
	CleanupAbortFailed = "abort-failed" // the abort failed; message says why
)

// CleanupRow is one unfinished upload seen by cleanup mode.
type CleanupRow struct {
	Key       string
	UploadID  string
	Initiated time.Time
	Action    string
	Message   string
}

// Write appends the row as key, upload id, initiated, action, message.
func (r *CleanupRow) Write(w *tsv.Writer) error {
	w.String(r.Key)
	w.String(r.UploadID)
	if r.Initiated.IsZero() {
		w.Null()
	} else {
		w.String(r.Initiated.UTC().Format(record.TimeLayout))
	}
	w.String(r.Action)
	w.NullString(r.Message)
	return w.End()
}

// CleanupOptions select the uploads to abort.
type CleanupOptions struct {
	Bucket      string
	Prefix      string
	OlderThan   time.Duration // uploads initiated before now - OlderThan are aborted
	DryRun      bool
	Concurrency int
	Now         func() time.Time
}

// Cleanup lists the unfinished multipart uploads under a prefix and aborts
// those older than the given age, reporting each upload through emit
// (called from one goroutine at a time). Abort failures become rows and
// the returned error is only fatal (listing failed, credentials). It
// returns the number of failed aborts.
func Cleanup(ctx context.Context, api CleanupAPI, o CleanupOptions, set *counters.Set, emit func(*CleanupRow) error) (int, error) {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Concurrency < 1 {
		o.Concurrency = 1
	}
	cutoff := o.Now().Add(-o.OlderThan)
	rows := make(chan *CleanupRow, o.Concurrency)
	g, gctx := errgroup.WithContext(ctx)
	failed := 0
	g.Go(func() error {
		for r := range rows {
			if r.Action == CleanupAbortFailed {
				failed++
			}
			if err := emit(r); err != nil {
				return err
			}
		}
		return nil
	})
	send := func(r *CleanupRow) error {
		select {
		case rows <- r:
			return nil
		case <-gctx.Done():
			return gctx.Err()
		}
	}
	workers, wctx := errgroup.WithContext(gctx)
	workers.SetLimit(o.Concurrency)
	err := listUploads(wctx, api, o.Bucket, o.Prefix, func(u types.MultipartUpload, key string) error {
		set.Inc(CounterListed)
		row := &CleanupRow{Key: key, UploadID: aws.ToString(u.UploadId), Initiated: aws.ToTime(u.Initiated)}
		switch {
		case !row.Initiated.Before(cutoff):
			row.Action = CleanupTooYoung
			set.Inc(CounterKept)
			return send(row)
		case o.DryRun:
			row.Action = CleanupWouldAbort
			return send(row)
		}
		workers.Go(func() error {
			_, err := api.AbortMultipartUpload(wctx, &s3.AbortMultipartUploadInput{
				Bucket: aws.String(o.Bucket), Key: aws.String(key), UploadId: u.UploadId})
			switch {
			case err == nil || s3err.Code(err) == "NoSuchUpload":
				// Gone already (completed or aborted meanwhile) is the goal.
				row.Action = CleanupAborted
				set.Inc(CounterAborted)
			case s3err.Classify(err) == s3err.Fatal:
				return fmt.Errorf("abort upload %s of %s: %w", row.UploadID, s3url(o.Bucket, key), err)
			default:
				row.Action = CleanupAbortFailed
				row.Message = s3err.Code(err) + ": " + s3err.Message(err)
				set.Inc(CounterFailed)
			}
			return send(row)
		})
		return nil
	})
	if werr := workers.Wait(); err == nil {
		err = werr
	}
	close(rows)
	if gerr := g.Wait(); err == nil {
		err = gerr
	}
	return failed, err
}

// listUploads calls fn for every unfinished upload whose key starts with
// prefix. S3 filters by prefix; MinIO matches the prefix only as a whole
// key and returns nothing otherwise, so an empty answer for a prefix is
// checked by listing the whole bucket and filtering here (cheap on S3 too:
// it only happens when the prefix has no uploads, and uploads are few).
func listUploads(ctx context.Context, api CleanupAPI, bucket, prefix string, fn func(types.MultipartUpload, string) error) error {
	seen := 0
	err := listPages(ctx, api, bucket, prefix, func(u types.MultipartUpload, key string) error {
		if !strings.HasPrefix(key, prefix) {
			return nil
		}
		seen++
		return fn(u, key)
	})
	if err != nil || seen > 0 || prefix == "" {
		return err
	}
	return listPages(ctx, api, bucket, "", func(u types.MultipartUpload, key string) error {
		if !strings.HasPrefix(key, prefix) {
			return nil
		}
		return fn(u, key)
	})
}

// listPages pages through ListMultipartUploads with EncodingType=url,
// decoding keys and the key marker (S3 returns NextKeyMarker encoded too,
// and expects it raw in the next request).
func listPages(ctx context.Context, api CleanupAPI, bucket, prefix string, fn func(types.MultipartUpload, string) error) error {
	in := &s3.ListMultipartUploadsInput{Bucket: aws.String(bucket), EncodingType: types.EncodingTypeUrl}
	if prefix != "" {
		in.Prefix = aws.String(prefix)
	}
	for {
		out, err := api.ListMultipartUploads(ctx, in)
		if err != nil {
			return fmt.Errorf("list multipart uploads in %s: %w", s3url(bucket, prefix), err)
		}
		encoded := out.EncodingType == types.EncodingTypeUrl
		for _, u := range out.Uploads {
			key, err := decode(aws.ToString(u.Key), encoded)
			if err != nil {
				return fmt.Errorf("list multipart uploads in %s: key %q: %w", s3url(bucket, prefix), aws.ToString(u.Key), err)
			}
			if err := fn(u, key); err != nil {
				return err
			}
		}
		if !aws.ToBool(out.IsTruncated) {
			return nil
		}
		marker, err := decode(aws.ToString(out.NextKeyMarker), encoded)
		if err != nil {
			return fmt.Errorf("list multipart uploads in %s: next key marker: %w", s3url(bucket, prefix), err)
		}
		if marker == aws.ToString(in.KeyMarker) && aws.ToString(out.NextUploadIdMarker) == aws.ToString(in.UploadIdMarker) {
			return fmt.Errorf("list multipart uploads in %s: server returned the same marker twice", s3url(bucket, prefix))
		}
		in.KeyMarker = aws.String(marker)
		in.UploadIdMarker = out.NextUploadIdMarker
	}
}

// decode undoes EncodingType=url (query escaping: '+' is a space).
func decode(s string, encoded bool) (string, error) {
	if !encoded {
		return s, nil
	}
	return url.QueryUnescape(s)
}
