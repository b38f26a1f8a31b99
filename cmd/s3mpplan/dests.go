package main

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/s3pipe/s3pipe/lib/dests"
	"github.com/s3pipe/s3pipe/lib/planner"
	"github.com/s3pipe/s3pipe/lib/props"
	"github.com/s3pipe/s3pipe/lib/s3client"
	"github.com/s3pipe/s3pipe/lib/stream"
)

// replication is s3mpplan's replication flag group: fan-out to more
// destinations, or copy in place (docs/REPLICATION.md).
type replication struct {
	AlsoDst       []string `name:"also-dst" sep:"none" help:"Another destination (repeatable): s3://BUCKET[,profile=NAME][,endpoint-url=URL][,region=R][,path-style=true|false]. Each object is planned for --dst-bucket and for each of these; the rows of one source range are adjacent." placeholder:"SPEC" group:"Replication"`
	InPlace       bool     `name:"in-place" help:"Plan each object onto itself (to make S3 replicate it again): same bucket and key, every property kept, plus the marker (or the --storage-class/--sse change). Uses the source side only." group:"Replication"`
	InPlaceMarker string   `name:"in-place-marker" help:"User-metadata KEY=VALUE the in-place copy sets (default s3pipe-replicated-at=<start time, RFC 3339>, unless --storage-class, --sse or a KMS key change is the change)." placeholder:"KEY=VALUE" group:"Replication"`
	ACL           string   `name:"acl" help:"In place: copy the source version's ACL to the new version (copy)." enum:",copy" default:"" group:"Replication"`

	specs   []dests.Spec
	inPlace *props.InPlace
}

// check validates the group before any client is made.
func (r *replication) check(c *CLI, over *props.Override, now time.Time) error {
	if !r.InPlace {
		if r.InPlaceMarker != "" || r.ACL != "" {
			return stream.Usagef("--in-place-marker and --acl belong to --in-place")
		}
		if c.DstBucket == "" {
			return stream.Usagef("--dst-bucket is required (unless --in-place)")
		}
		specs, err := dests.ParseAll(r.AlsoDst, c.DstBucket)
		if err != nil {
			return stream.Usagef("--also-dst: %v", err)
		}
		r.specs = specs
		return nil
	}
	if c.DstBucket != "" || len(r.AlsoDst) > 0 {
		return stream.Usagef("--in-place copies each object onto itself: no --dst-bucket or --also-dst")
	}
	ip := &props.InPlace{CopyACL: r.ACL == "copy"}
	changes := over.StorageClass != "" || over.SSE != "" || over.SSEKMSKeyID != "" || over.KMSKeyMap != nil
	switch {
	case r.InPlaceMarker != "":
		k, v, err := props.ParseMarker(r.InPlaceMarker)
		if err != nil {
			return stream.Usagef("%v", err)
		}
		ip.MarkerKey, ip.MarkerValue = k, v
	case !changes:
		ip.MarkerKey, ip.MarkerValue = props.DefaultMarker(now)
	}
	r.inPlace = ip
	return nil
}

// wire points the planner at the destinations: for a fan-out, a client per
// destination bucket, routed by bucket; in place, the source side.
func (r *replication) wire(ctx context.Context, c *CLI, pl *planner.Planner, src, dst *s3client.Client, opts ...func(*s3.Options)) error {
	if r.inPlace != nil {
		pl.InPlace = r.inPlace
		pl.Dst = s3.New(src.Options(), opts...)
		return nil
	}
	if len(r.specs) == 0 {
		return nil
	}
	cl, err := dests.NewClients(ctx, dst, r.specs, c.Tuning)
	if err != nil {
		return stream.Usagef("%v", err)
	}
	pl.Dst = &dests.Routed{C: cl, Opts: opts}
	for _, s := range r.specs {
		pl.Also = append(pl.Also, s.Bucket)
	}
	return nil
}
