package mergejoin

import (
	"bytes"
	"fmt"
)

// Rule is how a source object and its destination counterpart are judged
// different (the source record is then emitted to be copied).
type Rule int

const (
	// ETagSize: ETag or size differs (the default).
	ETagSize Rule = iota
	// Size: size differs.
	Size
	// SizeMTime: size differs, or the source is newer than the destination.
	SizeMTime
	// ETag: ETag differs.
	ETag
)

// Rules lists the --compare names in documentation order.
var Rules = []string{"etag-size", "size", "size-mtime", "etag"}

// ParseRule maps a --compare name to a Rule.
func ParseRule(s string) (Rule, error) {
	for i, n := range Rules {
		if s == n {
			return Rule(i), nil
		}
	}
	return 0, fmt.Errorf("unknown comparison %q (want one of etag-size, size, size-mtime, etag)", s)
}

func (r Rule) String() string {
	if int(r) < len(Rules) {
		return Rules[r]
	}
	return fmt.Sprintf("Rule(%d)", int(r))
}

// Changed-field sets, written to the report's fields column. They are
// constants so that reporting allocates nothing.
const (
	diffETag = 1 << iota
	diffSize
	diffMTime
)

var diffNames = [...][]byte{
	0:                               nil,
	diffETag:                        []byte("etag"),
	diffSize:                        []byte("size"),
	diffETag | diffSize:             []byte("etag,size"),
	diffMTime:                       []byte("mtime"),
	diffSize | diffMTime:            []byte("size,mtime"),
	diffETag | diffMTime:            []byte("etag,mtime"),
	diffETag | diffSize | diffMTime: []byte("etag,size,mtime"),
}

// diff returns the fields by which src and dst differ under rule r (0 =
// the same).
//
// An ETag that is empty or NULL on either side never proves equality: it is
// reported as a difference, so a listing without ETags cannot hide a change
// under an ETag rule. Likewise a NULL mtime on either side counts as "source
// newer" under size-mtime.
func diff(r Rule, src, dst *rec) int {
	d := 0
	if r == ETagSize || r == ETag {
		if len(src.etag) == 0 || len(dst.etag) == 0 || !bytes.Equal(src.etag, dst.etag) {
			d |= diffETag
		}
	}
	if r == ETagSize || r == Size || r == SizeMTime {
		if src.size != dst.size {
			d |= diffSize
		}
	}
	if r == SizeMTime {
		// The mtime column is fixed-width YYYY-MM-DD HH:MM:SS UTC (checked
		// when read), so byte order is time order.
		if src.mtime == nil || dst.mtime == nil || bytes.Compare(src.mtime, dst.mtime) > 0 {
			d |= diffMTime
		}
	}
	return d
}
