package copier

import (
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/url"
)

// ErrTruncated means the source body ended before the planned length.
var ErrTruncated = errors.New("source body ended early")

// ErrDigest means the streamed bytes do not hash to the source's MD5 ETag.
var ErrDigest = errors.New("source bytes do not match the source ETag")

// verifyReader passes exactly n bytes of r through, hashing them. When the
// expected MD5 is known, it checks the digest before handing out the final
// bytes and returns an error instead of them: the PUT then never sends its
// last byte, S3 never completes the object, and a corrupted source never
// becomes a destination object. A body that ends early is an error too (not
// an EOF), so the PUT fails rather than sending a short object.
type verifyReader struct {
	r    io.Reader
	n    int64 // bytes still to pass
	h    hash.Hash
	want []byte // expected MD5, or nil
	err  error
}

func newVerifyReader(r io.Reader, n int64, want []byte) *verifyReader {
	return &verifyReader{r: r, n: n, h: md5.New(), want: want}
}

func (v *verifyReader) Read(p []byte) (int, error) {
	if v.err != nil {
		return 0, v.err
	}
	if v.n == 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > v.n {
		p = p[:v.n]
	}
	k, err := v.r.Read(p)
	v.h.Write(p[:k])
	v.n -= int64(k)
	if v.n == 0 {
		if v.want != nil && !bytes.Equal(v.h.Sum(nil), v.want) {
			v.err = ErrDigest
			return 0, v.err
		}
		return k, io.EOF
	}
	if err == io.EOF {
		v.err = fmt.Errorf("%w: %d bytes missing", ErrTruncated, v.n)
		return k, v.err
	}
	if err != nil {
		v.err = err
	}
	return k, err
}

// Sum is the MD5 of the bytes passed so far, in hex.
func (v *verifyReader) Sum() string { return hex.EncodeToString(v.h.Sum(nil)) }

// Done reports whether all n bytes passed without error.
func (v *verifyReader) Done() bool { return v.n == 0 && v.err == nil }

// CopySource encodes bucket/key[?versionId=] for x-amz-copy-source: every
// byte except unreserved characters and '/' is percent-encoded, so keys with
// spaces, '+', '%', control bytes or unicode reach the server intact (a '+'
// sent raw would be read as a space).
func CopySource(bucket, key, versionID string) string {
	const hexd = "0123456789ABCDEF"
	b := make([]byte, 0, len(bucket)+len(key)*3/2+16)
	enc := func(s string) {
		for i := 0; i < len(s); i++ {
			c := s[i]
			if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.' || c == '~' || c == '/' {
				b = append(b, c)
				continue
			}
			b = append(b, '%', hexd[c>>4], hexd[c&15])
		}
	}
	enc(bucket)
	b = append(b, '/')
	enc(key)
	if versionID != "" {
		b = append(b, "?versionId="...)
		b = append(b, url.QueryEscape(versionID)...)
	}
	return string(b)
}
