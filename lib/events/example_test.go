package events_test

import (
	"fmt"
	"os"

	"github.com/s3pipe/s3pipe/lib/events"
	"github.com/s3pipe/s3pipe/lib/record"
	"github.com/s3pipe/s3pipe/lib/tsv"
)

// Turn the output of `aws sqs receive-message` (bodies: a raw S3 event, an
// SNS envelope and an EventBridge event) into object records sorted by key.
func Example() {
	f, err := os.Open("testdata/sqs-receive.json")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer f.Close()
	d := events.NewDecoder(f, events.Options{})
	w := tsv.NewWriter(os.Stdout)
	c, err := events.Emit(d, events.EmitOptions{Latest: true}, func(o *record.Object) error { return o.Write(w) })
	w.Flush()
	fmt.Printf("err=%v created=%d deleted=%d emitted=%d\n", err, d.Stats.Created, d.Stats.Deleted, c.Emitted)
	// Output:
	// sqs/raw key	11111111111111111111111111111111	1	2024-01-02 03:04:05	\N	\N	\N	false	src-bucket
	// sqs/via eventbridge	33333333333333333333333333333333	3	2021-11-12 00:00:00	\N	\N	\N	false	src-bucket
	// sqs/via sns	22222222222222222222222222222222	2	2024-01-02 03:04:05	\N	\N	\N	false	src-bucket
	// err=<nil> created=3 deleted=0 emitted=3
}
