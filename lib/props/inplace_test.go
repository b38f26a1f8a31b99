package props

import (
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

func TestInPlaceNote(t *testing.T) {
	for _, c := range []struct {
		ip    InPlace
		other string
		note  string
	}{
		{InPlace{}, "", "in-place?"},
		{InPlace{MarkerKey: DefaultMarkerKey, MarkerValue: "2024-05-06T07:08:09Z"}, "", "in-place?marker=s3pipe-replicated-at%3D2024-05-06T07%3A08%3A09Z"},
		{InPlace{MarkerKey: "k", MarkerValue: "a; b=c&d", CopyACL: true}, "new parts: x", "in-place?acl=copy&marker=k%3Da%3B+b%3Dc%26d; new parts: x"},
	} {
		n := c.ip.Note(c.other)
		if n != c.note {
			t.Errorf("Note = %q, want %q", n, c.note)
		}
		got, ok, err := ParseInPlaceNote(n)
		if !ok || err != nil || got != c.ip {
			t.Errorf("ParseInPlaceNote(%q) = %+v, %v, %v", n, got, ok, err)
		}
	}
	for _, n := range []string{"", "new parts: destination ETag differs by design", "in-place", "copied in an earlier run"} {
		if _, ok, _ := ParseInPlaceNote(n); ok {
			t.Errorf("%q taken for an in-place note", n)
		}
	}
	for _, n := range []string{"in-place?acl=none", "in-place?marker=novalue", "in-place?marker=%3Dv", "in-place?x=1", "in-place?%zz"} {
		if _, ok, err := ParseInPlaceNote(n); !ok || err == nil {
			t.Errorf("%q: want a malformed in-place note error", n)
		}
	}
}

func TestParseMarker(t *testing.T) {
	for in, want := range map[string]string{"k=v": "k=v", "X-Amz-Meta-Run=7": "run=7", "a=": "a=", "k=v=w": "k=v=w"} {
		k, v, err := ParseMarker(in)
		if err != nil || k+"="+v != want {
			t.Errorf("ParseMarker(%q) = %q, %q, %v; want %s", in, k, v, err, want)
		}
	}
	for _, in := range []string{"", "k", "=v", "a b=c"} {
		if _, _, err := ParseMarker(in); err == nil {
			t.Errorf("ParseMarker(%q): want an error", in)
		}
	}
	if k, v := DefaultMarker(time.Date(2024, 5, 6, 9, 8, 9, 5, time.FixedZone("x", 7200))); k != DefaultMarkerKey || v != "2024-05-06T07:08:09Z" {
		t.Errorf("DefaultMarker = %s=%s", k, v)
	}
}

func TestMarkKeepsSource(t *testing.T) {
	src := map[string]string{"a": "1"}
	p := Props{Metadata: src}
	InPlace{MarkerKey: "m", MarkerValue: "v"}.Mark(&p)
	if len(src) != 1 || p.Metadata["a"] != "1" || p.Metadata["m"] != "v" {
		t.Fatalf("source %v, marked %v", src, p.Metadata)
	}
	q := Props{Metadata: src}
	InPlace{}.Mark(&q)
	if len(q.Metadata) != 1 {
		t.Fatalf("no marker: %v", q.Metadata)
	}
}

func TestGrantsFromACL(t *testing.T) {
	g := func(p types.Permission, id, uri, email string) types.Grant {
		return types.Grant{Permission: p, Grantee: &types.Grantee{ID: opt(id), URI: opt(uri), EmailAddress: opt(email)}}
	}
	acl := &s3.GetObjectAclOutput{Grants: []types.Grant{
		g(types.PermissionFullControl, "owner", "", ""),
		g(types.PermissionRead, "", "http://acs.amazonaws.com/groups/global/AllUsers", ""),
		g(types.PermissionRead, "reader", "", ""),
		g(types.PermissionReadAcp, "", "", "a@example.com"),
		g(types.PermissionWriteAcp, "w", "", ""),
		g(types.PermissionWrite, "ignored", "", ""),
		{Permission: types.PermissionRead},
	}}
	got := GrantsFromACL(acl)
	want := Grants{FullControl: `id="owner"`, Read: `uri="http://acs.amazonaws.com/groups/global/AllUsers", id="reader"`,
		ReadACP: `emailAddress="a@example.com"`, WriteACP: `id="w"`}
	if got != want {
		t.Fatalf("got %+v\nwant %+v", got, want)
	}
	var in s3.CopyObjectInput
	got.ToCopy(&in)
	if aws.ToString(in.GrantRead) != want.Read || in.GrantFullControl == nil || in.GrantWriteACP == nil {
		t.Fatalf("ToCopy: %+v", in)
	}
	if !(Grants{}).Empty() || got.Empty() {
		t.Fatal("Empty")
	}
}

func TestLockFromHead(t *testing.T) {
	until := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	l := LockFromHead(&s3.HeadObjectOutput{ObjectLockMode: types.ObjectLockModeGovernance, ObjectLockRetainUntilDate: &until,
		ObjectLockLegalHoldStatus: types.ObjectLockLegalHoldStatusOn})
	var c s3.CreateMultipartUploadInput
	l.ToCreate(&c)
	if c.ObjectLockMode != types.ObjectLockModeGovernance || !c.ObjectLockRetainUntilDate.Equal(until) || c.ObjectLockLegalHoldStatus != types.ObjectLockLegalHoldStatusOn {
		t.Fatalf("%+v", c)
	}
	if l := LockFromHead(&s3.HeadObjectOutput{ObjectLockRetainUntilDate: &until}); l.RetainUntil != nil {
		t.Fatal("a retain-until date without a mode must not be sent")
	}
}

// FuzzParseInPlaceNote: no panic; an accepted note is written back the same
// way it reads.
func FuzzParseInPlaceNote(f *testing.F) {
	for _, s := range []string{"in-place?", "in-place?acl=copy&marker=k%3Dv; x", "in-place?marker=%3D", "x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ip, ok, err := ParseInPlaceNote(s)
		if !ok || err != nil {
			return
		}
		back, ok, err := ParseInPlaceNote(ip.Note(""))
		if !ok || err != nil || back != ip || strings.ContainsAny(ip.Note(""), "\t\n") {
			t.Fatalf("%q -> %+v -> %q -> %+v %v", s, ip, ip.Note(""), back, err)
		}
	})
}
