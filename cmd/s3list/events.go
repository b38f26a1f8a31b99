package main

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/s3pipe/s3pipe/lib/events"
	"github.com/s3pipe/s3pipe/lib/stream"
)

func runEvents(ctx context.Context, c *CLI, sio *stream.IO) error {
	var in io.Reader = sio.Stdin
	if c.Events != "-" {
		f, err := os.Open(c.Events)
		if err != nil {
			return stream.Usagef("events: %v", err)
		}
		defer f.Close()
		in = f
	}
	if c.EventsMaxKeys < 1 {
		return stream.Usagef("--events-max-keys wants a positive number, got %d", c.EventsMaxKeys)
	}
	set := counterSet()
	rep := startReporter(set, c, sio)
	out := newOutput(sio.Stdout, c, set, true)
	d := events.NewDecoder(&ctxReader{ctx, in}, events.Options{
		RawEventBridgeKeys: c.EventsRawEventbridgeKeys,
		IgnoreUnknown:      c.EventsIgnoreUnknown,
	})
	n, err := events.Emit(d, events.EmitOptions{Deletes: c.EventsDeletes, Latest: c.EventsLatest, MaxKeys: c.EventsMaxKeys}, out.Write)
	if ferr := out.Flush(); err == nil {
		err = ferr
	}
	// Every event is written or counted as skipped: deletes not asked for,
	// events superseded by a newer one of the same key, test events, other
	// event types, and (with --events-ignore-unknown) documents that are no
	// S3 event.
	st := d.Stats
	set.Add(counterEvents, st.Created+st.Deleted+st.TestEvents+st.Other+st.Unknown)
	set.Add(counterDeletes, st.Deleted)
	set.Add(counterSkipped, n.DeletesSkipped+n.Superseded+st.TestEvents+st.Other+st.Unknown)
	rep.Stop()
	if err != nil {
		return classify(fmt.Errorf("events %s: %w", inputName(c.Events), err))
	}
	return nil
}

// ctxReader stops reading when ctx is done (SIGINT while events stream in
// from a pipe).
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c *ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
