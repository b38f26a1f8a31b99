// Package events owns turning Amazon S3 event notifications into object
// records, whatever envelope they arrive in:
//
//   - the S3 event message itself: {"Records":[{"eventName":..., "s3":{...}}]}
//   - an SNS notification whose Message is that JSON as a string
//   - SQS messages as `aws sqs receive-message` prints them:
//     {"Messages":[{"Body":"<S3 event, SNS notification or EventBridge event>"}]}
//   - SQS and SNS records as Lambda receives them ({"Records":[{"body":...}]},
//     {"Records":[{"Sns":{"Message":...}}]})
//   - EventBridge "Object Created" / "Object Deleted" events (source aws.s3)
//   - the s3:TestEvent S3 sends when a notification is configured (counted,
//     otherwise ignored)
//
// The input may hold one JSON document per line, JSON arrays of documents,
// or whole pretty-printed documents, in any mix: a json.Decoder streams over
// it, and a top-level array is read element by element.
//
// Keys are URL-decoded with query semantics (a space arrives as "+"): the S3
// User Guide ("Event message structure") says the key in an S3 event is URL
// encoded. EventBridge's documentation does not say; AWS Lambda Powertools
// (maintained by AWS) decodes EventBridge S3 keys with unquote_plus as well,
// so they are decoded too unless Options.RawEventBridgeKeys is set.
package events

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/s3pipe/s3pipe/lib/record"
)

// Event is one object-level S3 event that s3pipe acts on.
type Event struct {
	Bucket    string
	Key       string // decoded
	Size      int64  // 0 for deletes
	ETag      string // without quotes; may be empty for deletes
	VersionID string // empty when the bucket is not versioned
	Sequencer string // orders events of one key (see Newer)
	Time      time.Time
	Name      string // eventName (ObjectCreated:Put, ...) or EventBridge detail-type
	// Deleted is set for ObjectRemoved:*, LifecycleExpiration:* and
	// EventBridge "Object Deleted".
	Deleted bool
	// DeleteMarker is set when the delete created a delete marker
	// (ObjectRemoved:DeleteMarkerCreated, deletion-type "Delete Marker
	// Created"); VersionID is then the marker's version.
	DeleteMarker bool
}

// Object converts e to an object record. A delete becomes a delete-marker
// record (no ETag, size 0) whose VersionID is the event's: the new marker's
// id, or the removed version's id for a permanent delete of one version.
func (e *Event) Object(o *record.Object) {
	*o = record.Object{Key: e.Key, ETag: e.ETag, Size: e.Size, MTime: e.Time.UTC().Truncate(time.Second),
		VersionID: e.VersionID, Bucket: e.Bucket}
	if e.Deleted {
		o.ETag, o.Size, o.DeleteMarker = "", 0, true
	}
}

// Options tune a Decoder.
type Options struct {
	// RawEventBridgeKeys takes EventBridge keys as they are instead of
	// URL-decoding them.
	RawEventBridgeKeys bool
	// IgnoreUnknown counts JSON documents that are no kind of S3 event
	// (Stats.Unknown) instead of failing on them.
	IgnoreUnknown bool
}

// Stats counts what a Decoder saw. Every record that is not returned as an
// Event is counted under a reason.
type Stats struct {
	Documents  int64 // top-level JSON documents (array elements count one each)
	Created    int64
	Deleted    int64
	TestEvents int64 // s3:TestEvent messages
	Other      int64 // other S3 event types (restore, tagging, ACL, lifecycle transition, replication, ...)
	Unknown    int64 // documents that are no S3 event (only with IgnoreUnknown)
}

// maxDepth bounds envelope nesting (SQS body -> SNS message -> S3 event is 3).
const maxDepth = 8

// Decoder reads events from a stream of JSON documents.
type Decoder struct {
	dec     *json.Decoder
	opts    Options
	Stats   Stats
	pending []Event
	inArray bool
	doc     int64 // number of the current top-level document, for errors
	err     error
}

// NewDecoder reads JSON documents from r.
func NewDecoder(r io.Reader, opts Options) *Decoder {
	d := json.NewDecoder(r)
	d.UseNumber()
	return &Decoder{dec: d, opts: opts}
}

// Next returns the next created or deleted object event, or io.EOF at the end
// of the input. The Event is valid until the next call.
func (d *Decoder) Next() (*Event, error) {
	for len(d.pending) == 0 {
		if d.err != nil {
			return nil, d.err
		}
		if err := d.readDocument(); err != nil {
			d.err = err
			return nil, err
		}
	}
	e := d.pending[0]
	d.pending = d.pending[1:]
	return &e, nil
}

// readDocument decodes the next top-level document (or array element) and
// queues its events.
func (d *Decoder) readDocument() error {
	for {
		if d.inArray {
			if d.dec.More() {
				break
			}
			if _, err := d.dec.Token(); err != nil { // the closing ]
				return d.syntax(err)
			}
			d.inArray = false
			continue
		}
		tok, err := d.dec.Token()
		if err == io.EOF {
			return io.EOF
		}
		if err != nil {
			return d.syntax(err)
		}
		switch tok {
		case json.Delim('['):
			d.inArray = true
			continue
		case json.Delim('{'):
			// A top-level object: its opening brace is consumed, so read the
			// members one by one (values stay raw).
			d.doc++
			d.Stats.Documents++
			members := map[string]json.RawMessage{}
			for d.dec.More() {
				kt, err := d.dec.Token()
				if err != nil {
					return d.syntax(err)
				}
				k, _ := kt.(string)
				var v json.RawMessage
				if err := d.dec.Decode(&v); err != nil {
					return d.syntax(err)
				}
				members[k] = v
			}
			if _, err := d.dec.Token(); err != nil {
				return d.syntax(err)
			}
			return d.wrap(d.object(members, 0))
		default:
			d.doc++
			return fmt.Errorf("event document %d (byte %d): want a JSON object or array, got %v", d.doc, d.dec.InputOffset(), tok)
		}
	}
	d.doc++
	d.Stats.Documents++
	var raw json.RawMessage
	if err := d.dec.Decode(&raw); err != nil {
		return d.syntax(err)
	}
	return d.wrap(d.value(raw, 0))
}

func (d *Decoder) syntax(err error) error {
	return fmt.Errorf("event input: bad JSON near byte %d: %w", d.dec.InputOffset(), err)
}

func (d *Decoder) wrap(err error) error {
	if err != nil {
		return fmt.Errorf("event document %d (ending at byte %d): %w", d.doc, d.dec.InputOffset(), err)
	}
	return nil
}

// value handles one JSON value: an object, an array of them, or a string
// holding JSON (an SQS body or SNS message).
func (d *Decoder) value(raw json.RawMessage, depth int) error {
	if depth > maxDepth {
		return errors.New("envelopes nested too deeply")
	}
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return d.unknown("empty document")
	}
	switch raw[0] {
	case '{':
		var m map[string]json.RawMessage
		if err := json.Unmarshal(raw, &m); err != nil {
			return err
		}
		return d.object(m, depth)
	case '[':
		var a []json.RawMessage
		if err := json.Unmarshal(raw, &a); err != nil {
			return err
		}
		for _, v := range a {
			if err := d.value(v, depth+1); err != nil {
				return err
			}
		}
		return nil
	case '"':
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return err
		}
		return d.text(s, depth+1)
	}
	return d.unknown("a JSON " + kindOf(raw[0]))
}

func kindOf(c byte) string {
	switch {
	case c == 't' || c == 'f':
		return "boolean"
	case c == 'n':
		return "null"
	}
	return "number"
}

// text handles a string that holds one or more JSON documents (an SQS body,
// an SNS Message).
func (d *Decoder) text(s string, depth int) error {
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	n := 0
	for {
		var raw json.RawMessage
		err := dec.Decode(&raw)
		if err == io.EOF {
			if n == 0 {
				return d.unknown("an empty message body")
			}
			return nil
		}
		if err != nil {
			if n == 0 {
				return d.unknown("a message body that is not JSON")
			}
			return fmt.Errorf("message body: %w", err)
		}
		n++
		if err := d.value(raw, depth); err != nil {
			return err
		}
	}
}

func (d *Decoder) unknown(what string) error {
	if d.opts.IgnoreUnknown {
		d.Stats.Unknown++
		return nil
	}
	return fmt.Errorf("%s is not an S3 event, SNS notification, SQS message list or EventBridge event (s3list --events-ignore-unknown counts and skips such documents)", what)
}

func str(m map[string]json.RawMessage, k string) string {
	var s string
	if v, ok := m[k]; ok {
		_ = json.Unmarshal(v, &s) // null or a non-string leaves ""
	}
	return s
}

// object dispatches on the shape of one JSON object.
func (d *Decoder) object(m map[string]json.RawMessage, depth int) error {
	switch {
	case m["Records"] != nil:
		var recs []json.RawMessage
		if err := json.Unmarshal(m["Records"], &recs); err != nil {
			return fmt.Errorf("field Records: %w", err)
		}
		for i, r := range recs {
			if err := d.record(r, depth); err != nil {
				return fmt.Errorf("field Records[%d]: %w", i, err)
			}
		}
		return nil
	case m["Messages"] != nil: // aws sqs receive-message
		var msgs []map[string]json.RawMessage
		if err := json.Unmarshal(m["Messages"], &msgs); err != nil {
			return fmt.Errorf("field Messages: %w", err)
		}
		for i, msg := range msgs {
			body, ok := msg["Body"]
			if !ok {
				return fmt.Errorf("field Messages[%d]: no Body", i)
			}
			if err := d.value(body, depth+1); err != nil {
				return fmt.Errorf("Messages[%d].Body: %w", i, err)
			}
		}
		return nil
	case str(m, "Type") == "Notification" && m["Message"] != nil: // SNS
		if err := d.value(m["Message"], depth+1); err != nil {
			return fmt.Errorf("SNS Message: %w", err)
		}
		return nil
	case str(m, "Event") == "s3:TestEvent":
		d.Stats.TestEvents++
		return nil
	case m["detail-type"] != nil && str(m, "source") == "aws.s3":
		return d.eventBridge(m)
	case m["Body"] != nil && len(m) <= 8: // one SQS message on its own
		return d.value(m["Body"], depth+1)
	}
	return d.unknown(describe(m))
}

func describe(m map[string]json.RawMessage) string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
		if len(ks) == 6 {
			break
		}
	}
	return fmt.Sprintf("a JSON object with keys %q", ks)
}

// record handles one element of Records: an S3 event record, or an SQS or
// SNS record as Lambda delivers them.
func (d *Decoder) record(raw json.RawMessage, depth int) error {
	var probe struct {
		S3   json.RawMessage `json:"s3"`
		Body json.RawMessage `json:"body"` // Lambda SQS event
		Sns  *struct {
			Message json.RawMessage `json:"Message"`
		} `json:"Sns"` // Lambda SNS event
	}
	if err := json.Unmarshal(raw, &probe); err != nil {
		return err
	}
	switch {
	case probe.S3 != nil:
		return d.s3Record(raw)
	case probe.Body != nil:
		return d.value(probe.Body, depth+1)
	case probe.Sns != nil:
		if probe.Sns.Message == nil {
			return errors.New("field Sns: no Message")
		}
		return d.value(probe.Sns.Message, depth+1)
	}
	var m map[string]json.RawMessage
	_ = json.Unmarshal(raw, &m)
	return d.unknown(describe(m))
}

// flexInt accepts a JSON number or a numeric string.
type flexInt struct {
	n   int64
	set bool
}

func (f *flexInt) UnmarshalJSON(b []byte) error {
	s := string(bytes.Trim(b, `"`))
	if s == "null" || s == "" {
		return nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return fmt.Errorf("size: want a non-negative integer, got %s", b)
	}
	f.n, f.set = n, true
	return nil
}

type s3Record struct {
	EventName string `json:"eventName"`
	EventTime string `json:"eventTime"`
	S3        struct {
		Bucket struct {
			Name string `json:"name"`
		} `json:"bucket"`
		Object struct {
			Key       *string `json:"key"`
			Size      flexInt `json:"size"`
			ETag      string  `json:"eTag"`
			VersionID string  `json:"versionId"`
			Sequencer string  `json:"sequencer"`
		} `json:"object"`
	} `json:"s3"`
}

func (d *Decoder) s3Record(raw json.RawMessage) error {
	var r s3Record
	if err := json.Unmarshal(raw, &r); err != nil {
		return err
	}
	// MinIO and Ceph prefix event names with "s3:"; AWS does not.
	name := strings.TrimPrefix(r.EventName, "s3:")
	var e Event
	switch {
	case strings.HasPrefix(name, "ObjectCreated:"):
	case strings.HasPrefix(name, "ObjectRemoved:"), strings.HasPrefix(name, "LifecycleExpiration:"):
		e.Deleted = true
		e.DeleteMarker = strings.HasSuffix(name, ":DeleteMarkerCreated")
	default:
		d.Stats.Other++
		return nil
	}
	o := &r.S3.Object
	if o.Key == nil || r.S3.Bucket.Name == "" {
		return fmt.Errorf("%s event without s3.bucket.name or s3.object.key", r.EventName)
	}
	key, err := url.QueryUnescape(*o.Key)
	if err != nil {
		return fmt.Errorf("s3.object.key %q: bad URL encoding: %w", *o.Key, err)
	}
	if !e.Deleted && !o.Size.set {
		return fmt.Errorf("%s event for %q without s3.object.size", r.EventName, key)
	}
	e.Bucket, e.Key, e.Size, e.ETag = r.S3.Bucket.Name, key, o.Size.n, strings.Trim(o.ETag, `"`)
	e.VersionID, e.Sequencer, e.Name = o.VersionID, o.Sequencer, name
	if e.Time, err = parseTime(r.EventTime); err != nil {
		return fmt.Errorf("eventTime: %w", err)
	}
	d.add(e)
	return nil
}

type bridgeEvent struct {
	DetailType string `json:"detail-type"`
	Time       string `json:"time"`
	Detail     struct {
		Bucket struct {
			Name string `json:"name"`
		} `json:"bucket"`
		Object struct {
			Key       *string `json:"key"`
			Size      flexInt `json:"size"`
			ETag      string  `json:"etag"`
			VersionID string  `json:"version-id"`
			Sequencer string  `json:"sequencer"`
		} `json:"object"`
		DeletionType string `json:"deletion-type"`
	} `json:"detail"`
}

func (d *Decoder) eventBridge(m map[string]json.RawMessage) error {
	b, _ := json.Marshal(m)
	var ev bridgeEvent
	if err := json.Unmarshal(b, &ev); err != nil {
		return err
	}
	var e Event
	switch ev.DetailType {
	case "Object Created":
	case "Object Deleted":
		e.Deleted = true
		e.DeleteMarker = ev.Detail.DeletionType == "Delete Marker Created"
	default:
		d.Stats.Other++
		return nil
	}
	o := &ev.Detail.Object
	if o.Key == nil || ev.Detail.Bucket.Name == "" {
		return fmt.Errorf("EventBridge %s event without detail.bucket.name or detail.object.key", ev.DetailType)
	}
	key := *o.Key
	if !d.opts.RawEventBridgeKeys {
		var err error
		if key, err = url.QueryUnescape(key); err != nil {
			return fmt.Errorf("detail.object.key %q: bad URL encoding (s3list --events-raw-eventbridge-keys takes keys that arrive unencoded): %w", *o.Key, err)
		}
	}
	if !e.Deleted && !o.Size.set {
		return fmt.Errorf("EventBridge %s event for %q without detail.object.size", ev.DetailType, key)
	}
	e.Bucket, e.Key, e.Size, e.ETag = ev.Detail.Bucket.Name, key, o.Size.n, strings.Trim(o.ETag, `"`)
	e.VersionID, e.Sequencer, e.Name = o.VersionID, o.Sequencer, ev.DetailType
	var err error
	if e.Time, err = parseTime(ev.Time); err != nil {
		return fmt.Errorf("time: %w", err)
	}
	d.add(e)
	return nil
}

func (d *Decoder) add(e Event) {
	if e.Deleted {
		d.Stats.Deleted++
	} else {
		d.Stats.Created++
	}
	d.pending = append(d.pending, e)
}

func parseTime(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	return time.Parse(time.RFC3339Nano, s)
}
