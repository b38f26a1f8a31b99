package main

import (
	"context"
	"os"
	"runtime/pprof"

	"github.com/s3pipe/s3pipe/lib/copier"
	"github.com/s3pipe/s3pipe/lib/counters"
	"github.com/s3pipe/s3pipe/lib/s3client"
	"github.com/s3pipe/s3pipe/lib/stream"
)

func run(ctx context.Context, c *CLI, sio *stream.IO) error {
	over, err := c.Props.Override()
	if err != nil {
		return stream.Usagef("%v", err)
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
	if c.CPUProfile != "" {
		f, err := os.Create(c.CPUProfile)
		if err != nil {
			return stream.Usagef("--cpuprofile: %v", err)
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return stream.Usagef("--cpuprofile: %v", err)
		}
		defer pprof.StopCPUProfile()
	}
	set := counters.New("s3copy", copier.CounterNames...)
	rep := sio.Reporter(set, c.Flags, counters.Progress{Records: "rows", Bytes: "bytes", Errors: "failed"})
	defer rep.Stop()
	workers := max(c.Tuning.Concurrency, 1)
	cp := copier.New(copier.Config{Mode: copier.Mode(c.Mode), SameIdentity: src.Key == dst.Key, Override: over, Workers: workers,
		TrustDstEncryption: c.TrustDstEncryption},
		src.Client, dst.Client, set, copier.NewLimiter(c.MaxRPS))
	return c.Fanout.run(ctx, c, cp, src, dst, sio, workers)
}
