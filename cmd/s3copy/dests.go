package main

import (
	"context"

	"github.com/s3pipe/s3pipe/lib/copier"
	"github.com/s3pipe/s3pipe/lib/dests"
	"github.com/s3pipe/s3pipe/lib/s3client"
	"github.com/s3pipe/s3pipe/lib/stream"
)

// fanout is s3copy's flag group for several destinations in one run.
type fanout struct {
	AlsoDst []string `name:"also-dst" sep:"none" help:"Another destination (repeatable), as given to s3mpplan: s3://BUCKET[,profile=NAME][,endpoint-url=URL][,region=R][,path-style=true|false]. Rows for that bucket use this side; other rows use --dst-*. Consecutive rows reading the same source range share one GET when streamed." placeholder:"SPEC" group:"Replication"`
}

// run copies the plan rows: with --also-dst through a router with one
// copier per destination (grouping rows that read the same source range),
// else with the single copier cp.
func (f *fanout) run(ctx context.Context, c *CLI, cp *copier.Copier, src, dst *s3client.Client, sio *stream.IO, workers int) error {
	if len(f.AlsoDst) == 0 {
		return copier.Run(ctx, cp, sio.Input(c.Flags), sio.Stdout, workers)
	}
	specs, err := dests.ParseAll(f.AlsoDst, "")
	if err != nil {
		return stream.Usagef("--also-dst: %v", err)
	}
	cl, err := dests.NewClients(ctx, dst, specs, c.Tuning)
	if err != nil {
		return stream.Usagef("%v", err)
	}
	rt := &copier.Router{Default: cp, ByBucket: map[string]*copier.Copier{}}
	for b, d := range cl.ByBucket {
		rt.ByBucket[b] = cp.ForDestination(d.Client, d.Key == src.Key)
	}
	return copier.RunGroups(ctx, rt, sio.Input(c.Flags), sio.Stdout, workers)
}
