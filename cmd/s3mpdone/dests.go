package main

import (
	"context"

	"github.com/s3pipe/s3pipe/lib/complete"
	"github.com/s3pipe/s3pipe/lib/dests"
	"github.com/s3pipe/s3pipe/lib/s3client"
	"github.com/s3pipe/s3pipe/lib/stream"
)

// fanout is s3mpdone's flag group for several destinations: each upload is
// completed (and checked, or aborted) at the destination its bucket names.
type fanout struct {
	AlsoDst []string `name:"also-dst" sep:"none" help:"Another destination (repeatable), as given to s3mpplan and s3copy: s3://BUCKET[,profile=NAME][,endpoint-url=URL][,region=R][,path-style=true|false]. Rows for that bucket use this side; other rows use --dst-*." placeholder:"SPEC" group:"Replication"`
}

// api is the destination client: client itself, or a router by bucket.
func (f *fanout) api(ctx context.Context, client *s3client.Client, t s3client.Tuning) (complete.API, error) {
	if len(f.AlsoDst) == 0 {
		return client, nil
	}
	specs, err := dests.ParseAll(f.AlsoDst, "")
	if err != nil {
		return nil, stream.Usagef("--also-dst: %v", err)
	}
	cl, err := dests.NewClients(ctx, client, specs, t)
	if err != nil {
		return nil, stream.Usagef("%v", err)
	}
	return &dests.Routed{C: cl}, nil
}
