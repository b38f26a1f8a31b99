package copier

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/s3pipe/s3pipe/lib/props"
	"github.com/s3pipe/s3pipe/lib/record"
	"github.com/s3pipe/s3pipe/lib/s3err"
)

// aclAPI reads a source version's ACL (copy in place with acl=copy).
type aclAPI interface {
	GetObjectAcl(context.Context, *s3.GetObjectAclInput, ...func(*s3.Options)) (*s3.GetObjectAclOutput, error)
}

// inPlace handles a row s3mpplan planned in place (its note says so): the
// object is copied onto itself, always server-side whatever the mode (the
// bytes never need to leave S3, and source and destination are one
// endpoint and identity). done is false for other rows.
func (c *Copier) inPlace(ctx context.Context, r *record.Result, algo string) (done bool, err error) {
	p := &r.Plan
	ip, ok, err := props.ParseInPlaceNote(p.Note)
	if !ok {
		return false, nil
	}
	if err != nil {
		return true, fmt.Errorf("%s: %w", what(p), err)
	}
	if p.SrcBucket != p.DstBucket {
		return true, fmt.Errorf("%s: in-place row copies to s3://%s: an in-place row's destination is its source", what(p), p.DstBucket)
	}
	if p.Action == record.ActionPart {
		// UploadPartCopy from the object itself into the upload s3mpplan
		// created with the marker, lock settings and grants.
		err = c.serverCopy(ctx, r, algo)
		if err != nil && algo != "" && s3err.Code(err) == "InvalidArgument" {
			// MinIO cannot UploadPartCopy into an upload with a checksum
			// algorithm ("checksum missing"); AWS S3 can. Streaming the part
			// (GET by part number, which carries its checksum) through this
			// host is the way left on such servers.
			if err = c.streamCopy(ctx, r, algo); err == nil {
				c.set.Inc("streamed")
				return true, nil
			}
		}
	} else {
		err = c.inPlaceCopy(ctx, r, ip)
	}
	if err == nil {
		c.set.Inc("server_copies")
	}
	return true, err
}

// inPlaceCopy copies a whole object onto itself with CopyObject: every
// property from the pinned HEAD (MetadataDirective REPLACE), the tags by
// the server (TaggingDirective COPY, unless overridden), the object-lock
// settings and, when asked, the ACL as grant headers; plus the marker.
// The new version id is the result's DstVersionID.
func (c *Copier) inPlaceCopy(ctx context.Context, r *record.Result, ip props.InPlace) error {
	p := &r.Plan
	head, err := c.headWhole(ctx, p)
	if err != nil {
		return err
	}
	src := props.FromHead(head)
	dst := c.cfg.Override.Apply(src)
	ip.Mark(&dst)
	in := &s3.CopyObjectInput{Bucket: aws.String(p.DstBucket), Key: aws.String(p.Key),
		CopySource: aws.String(CopySource(p.SrcBucket, p.Key, p.VersionID)), CopySourceIfMatch: quote(p.ETag)}
	dst.ToCopy(in, c.cfg.Override.Tagging != nil)
	props.LockFromHead(head).ToCopy(in)
	if ip.CopyACL {
		a, ok := c.dst.(aclAPI)
		if !ok {
			return fmt.Errorf("get ACL of s3://%s/%s: the client cannot read ACLs", p.SrcBucket, p.Key)
		}
		acl, err := a.GetObjectAcl(ctx, &s3.GetObjectAclInput{Bucket: aws.String(p.SrcBucket), Key: aws.String(p.Key),
			VersionId: opt(p.VersionID)}, c.opts...)
		if err != nil {
			return fmt.Errorf("get ACL of s3://%s/%s: %w", p.SrcBucket, p.Key, err)
		}
		props.GrantsFromACL(acl).ToCopy(in)
	}
	out, err := c.dst.CopyObject(ctx, in, c.opts...)
	if err != nil {
		return fmt.Errorf("%s in place: %w", what(p), err)
	}
	if out.CopyObjectResult != nil {
		r.DstETag = unquote(out.CopyObjectResult.ETag)
	}
	r.DstVersionID = aws.ToString(out.VersionId)
	return c.verifyWhole(r, &src, &dst, record.ProofServer)
}
