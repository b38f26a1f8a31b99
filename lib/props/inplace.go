package props

import (
	"fmt"
	"maps"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// DefaultMarkerKey is the user-metadata key (x-amz-meta-s3pipe-replicated-at
// on the wire) that a copy in place sets by default: S3 refuses to copy an
// object onto itself unless something changes, and replication only
// replicates a new version, so the change is made explicit and visible.
const DefaultMarkerKey = "s3pipe-replicated-at"

// InPlace describes a copy of an object onto itself (to make S3 replicate
// it again). s3mpplan decides it and writes it into every plan row's note,
// so s3copy needs no flag of its own and single-part and multipart objects
// get the same marker.
type InPlace struct {
	MarkerKey   string // user-metadata key to set; "" = no marker (a storage class or encryption change instead)
	MarkerValue string
	CopyACL     bool // reproduce the source version's ACL on the new version
}

// inPlaceNote starts the note of every in-place plan row.
const inPlaceNote = "in-place?"

// Note is the plan-row note: "in-place?" and a URL query
// (acl=copy&marker=KEY%3DVALUE), optionally followed by "; " and the row's
// other note.
func (ip InPlace) Note(other string) string {
	v := url.Values{}
	if ip.MarkerKey != "" {
		v.Set("marker", ip.MarkerKey+"="+ip.MarkerValue)
	}
	if ip.CopyACL {
		v.Set("acl", "copy")
	}
	n := inPlaceNote + v.Encode()
	if other != "" {
		n += "; " + other
	}
	return n
}

// ParseInPlaceNote reads a note written by Note. ok is false when the note
// is not an in-place note; err tells a malformed one.
func ParseInPlaceNote(note string) (ip InPlace, ok bool, err error) {
	rest, ok := strings.CutPrefix(note, inPlaceNote)
	if !ok {
		return ip, false, nil
	}
	q, _, _ := strings.Cut(rest, "; ")
	v, err := url.ParseQuery(q)
	if err != nil {
		return ip, true, fmt.Errorf("in-place note %q: %w", note, err)
	}
	for k := range v {
		if k != "marker" && k != "acl" {
			return ip, true, fmt.Errorf("in-place note %q: unknown setting %q", note, k)
		}
	}
	if m := v.Get("marker"); m != "" {
		k, val, found := strings.Cut(m, "=")
		if !found || k == "" {
			return ip, true, fmt.Errorf("in-place note %q: marker wants KEY=VALUE", note)
		}
		ip.MarkerKey, ip.MarkerValue = k, val
	}
	switch v.Get("acl") {
	case "copy":
		ip.CopyACL = true
	case "":
	default:
		return ip, true, fmt.Errorf("in-place note %q: acl=%s: want copy", note, v.Get("acl"))
	}
	return ip, true, nil
}

// ParseMarker reads a --in-place-marker KEY=VALUE flag.
func ParseMarker(s string) (key, value string, err error) {
	k, v, ok := strings.Cut(s, "=")
	k = strings.ToLower(strings.TrimPrefix(strings.ToLower(k), "x-amz-meta-"))
	if !ok || k == "" || strings.ContainsAny(k, " \t\r\n=:") {
		return "", "", fmt.Errorf("--in-place-marker %q: want KEY=VALUE (a user-metadata key)", s)
	}
	return k, v, nil
}

// DefaultMarker is the default marker for a run started at t.
func DefaultMarker(t time.Time) (key, value string) {
	return DefaultMarkerKey, t.UTC().Format(time.RFC3339)
}

// Mark adds the marker to the destination properties' user metadata
// (without touching the map it came from).
func (ip InPlace) Mark(p *Props) {
	if ip.MarkerKey == "" {
		return
	}
	m := make(map[string]string, len(p.Metadata)+1)
	maps.Copy(m, p.Metadata)
	m[ip.MarkerKey] = ip.MarkerValue
	p.Metadata = m
}

// Lock is an object version's object-lock settings. A copy in place must
// repeat them on the new version: neither CopyObject nor
// CreateMultipartUpload takes them from the source. (They are not carried
// to other buckets, which need not have object lock enabled.)
type Lock struct {
	Mode        types.ObjectLockMode
	RetainUntil *time.Time
	LegalHold   types.ObjectLockLegalHoldStatus
}

// LockFromHead reads the object-lock settings a HEAD reports (only to
// callers allowed s3:GetObjectRetention / s3:GetObjectLegalHold).
func LockFromHead(h *s3.HeadObjectOutput) Lock {
	l := Lock{Mode: h.ObjectLockMode, RetainUntil: h.ObjectLockRetainUntilDate, LegalHold: h.ObjectLockLegalHoldStatus}
	if l.Mode == "" {
		l.RetainUntil = nil
	}
	return l
}

// ToCopy sets the lock on a CopyObject request.
func (l Lock) ToCopy(in *s3.CopyObjectInput) {
	in.ObjectLockMode, in.ObjectLockRetainUntilDate, in.ObjectLockLegalHoldStatus = l.Mode, l.RetainUntil, l.LegalHold
}

// ToCreate sets the lock on a CreateMultipartUpload request.
func (l Lock) ToCreate(in *s3.CreateMultipartUploadInput) {
	in.ObjectLockMode, in.ObjectLockRetainUntilDate, in.ObjectLockLegalHoldStatus = l.Mode, l.RetainUntil, l.LegalHold
}

// Grants are an ACL in the form of the x-amz-grant-* request headers, which
// CopyObject and CreateMultipartUpload accept: the new version gets the
// ACL when it is created, with no window in which it has another one.
type Grants struct {
	FullControl, Read, ReadACP, WriteACP string
}

// GrantsFromACL converts a GetObjectAcl answer. WRITE has no meaning on an
// object and no x-amz-grant-write header for objects: it is dropped.
func GrantsFromACL(acl *s3.GetObjectAclOutput) Grants {
	var fc, r, ra, wa []string
	for _, g := range acl.Grants {
		if g.Grantee == nil {
			continue
		}
		var who string
		switch {
		case aws.ToString(g.Grantee.ID) != "":
			who = `id="` + aws.ToString(g.Grantee.ID) + `"`
		case aws.ToString(g.Grantee.URI) != "":
			who = `uri="` + aws.ToString(g.Grantee.URI) + `"`
		case aws.ToString(g.Grantee.EmailAddress) != "":
			who = `emailAddress="` + aws.ToString(g.Grantee.EmailAddress) + `"`
		default:
			continue
		}
		switch g.Permission {
		case types.PermissionFullControl:
			fc = append(fc, who)
		case types.PermissionRead:
			r = append(r, who)
		case types.PermissionReadAcp:
			ra = append(ra, who)
		case types.PermissionWriteAcp:
			wa = append(wa, who)
		}
	}
	j := func(s []string) string { return strings.Join(s, ", ") }
	return Grants{FullControl: j(fc), Read: j(r), ReadACP: j(ra), WriteACP: j(wa)}
}

// Empty reports whether there is no grant at all.
func (g Grants) Empty() bool { return g == Grants{} }

// ToCopy sets the grants on a CopyObject request.
func (g Grants) ToCopy(in *s3.CopyObjectInput) {
	in.GrantFullControl, in.GrantRead, in.GrantReadACP, in.GrantWriteACP = opt(g.FullControl), opt(g.Read), opt(g.ReadACP), opt(g.WriteACP)
}

// ToCreate sets the grants on a CreateMultipartUpload request.
func (g Grants) ToCreate(in *s3.CreateMultipartUploadInput) {
	in.GrantFullControl, in.GrantRead, in.GrantReadACP, in.GrantWriteACP = opt(g.FullControl), opt(g.Read), opt(g.ReadACP), opt(g.WriteACP)
}
