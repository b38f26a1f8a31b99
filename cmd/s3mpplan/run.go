package main

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/s3pipe/s3pipe/lib/copier"
	"github.com/s3pipe/s3pipe/lib/counters"
	"github.com/s3pipe/s3pipe/lib/layout"
	"github.com/s3pipe/s3pipe/lib/planner"
	"github.com/s3pipe/s3pipe/lib/s3client"
	"github.com/s3pipe/s3pipe/lib/stream"
)

func run(ctx context.Context, c *CLI, sio *stream.IO) error {
	over, err := c.Props.Override()
	if err != nil {
		return stream.Usagef("%v", err)
	}
	if err := c.Replication.check(c, &over, time.Now()); err != nil {
		return err
	}
	var partSize int64
	if c.PartSize != "" {
		if partSize, err = planner.ParseSize(c.PartSize); err != nil {
			return stream.Usagef("--part-size: %v", err)
		}
		if partSize < layout.MinPartSize || partSize > layout.MaxPartSize {
			return stream.Usagef("--part-size %s: want 5MiB..5GiB", c.PartSize)
		}
	}
	if c.MaxRPS < 0 {
		return stream.Usagef("--max-rps must not be negative")
	}
	src, err := s3client.New(ctx, c.Src, c.Tuning)
	if err != nil {
		return stream.Usagef("source: %v", err)
	}
	dst, err := s3client.New(ctx, c.Dst, c.Tuning)
	if err != nil {
		return stream.Usagef("destination: %v", err)
	}
	set := counters.New("s3mpplan", planner.CounterNames...)
	rep := sio.Reporter(set, c.Flags, counters.Progress{Records: "objects", Bytes: "bytes", Errors: "failed"})
	defer rep.Stop()
	// One limiter paces both sides, as in s3copy.
	lim := copier.NewLimiter(c.MaxRPS)
	srcAPI, dstAPI := s3.New(src.Options(), lim.Option()), s3.New(dst.Options(), lim.Option())
	pl := &planner.Planner{Src: srcAPI, Dst: dstAPI, Override: over, SrcBucket: c.SrcBucket, DstBucket: c.DstBucket,
		PartSize: partSize, Exact: c.ExactLayout, DryRun: c.DryRun, HeadConc: 8, Set: set}
	if err := c.Replication.wire(ctx, c, pl, src, dst, lim.Option()); err != nil {
		return err
	}
	return planner.PlanAll(ctx, pl, sio.Input(c.Flags), sio.Stdout, max(c.Tuning.Concurrency, 1))
}
