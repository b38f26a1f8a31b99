package mergejoin

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/s3pipe/s3pipe/lib/counters"
	"github.com/s3pipe/s3pipe/lib/record"
	"github.com/s3pipe/s3pipe/lib/tsv"
)

// Side tags of mapped lines.
const (
	TagSrc = "src"
	TagDst = "dst"
)

// MappedColumns is the column count of a mapped line: hex key, side tag,
// then the object record.
const MappedColumns = 2 + record.ObjectColumns

// Map is the Hadoop streaming mapper: it reads object records in any order
// and writes each as
//
//	<hex of the raw key> TAB <tag> TAB <the record's 9 columns, as read>
//
// The shuffle key is the first two fields. Lower-case hex keeps raw byte
// order under a byte-wise sort (the escaped key would not: `a\tb` sorts
// after `a0` escaped but before it raw), so the reducer sees each side in
// raw key order and can run the same order and duplicate checks as the
// pipe mode. Every record is mapped (old versions and delete markers too),
// so the reducer applies the version rule and counts them.
func Map(ctx context.Context, in *tsv.Reader, tag string, out *tsv.Writer, set *counters.Set) error {
	if tag != TagSrc && tag != TagDst {
		return fmt.Errorf("map: side tag %q: want %s or %s", tag, TagSrc, TagDst)
	}
	mapped := set.Counter(CounterMapped)
	var r rec
	var hexKey []byte
	for n := 0; ; n++ {
		if n%checkEvery == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		f, err := in.Read()
		if err == errEOF {
			return nil
		}
		if err != nil {
			return err
		}
		if err := parse(f, &r); err != nil {
			return record.AtLine(in, err)
		}
		hexKey = hex.AppendEncode(hexKey[:0], r.key)
		out.Bytes(hexKey)
		out.String(tag)
		if err := out.Record(f); err != nil {
			return err
		}
		mapped.Add(1)
	}
}

// Reduce is the Hadoop streaming reducer: it reads mapped lines grouped and
// sorted by key (Hadoop's shuffle, or `LC_ALL=C sort`) and writes the same
// outputs as Join. Lines of one key may come in any order of side and
// version; at most one live record per side and key is held (copied), so
// memory stays constant.
func (j *Joiner) Reduce(ctx context.Context, in *tsv.Reader) error {
	j.src.r, j.dst.r = in, in
	j.src.colOff, j.dst.colOff = 2, 2
	var (
		cur         rec
		held        [2]rec // live source and destination record of the group
		have        [2]bool
		group       []byte
		groupLine   int64
		inGroup     bool
		key         []byte
		sides       = [2]*side{&j.src, &j.dst}
		errShuffled = errors.New("reducer input is not grouped by key: sort mapped lines byte-wise (LC_ALL=C) or use Hadoop's shuffle")
		flush       = func() error {
			var s, d *rec
			if have[0] {
				s = &held[0]
			}
			if have[1] {
				d = &held[1]
			}
			have = [2]bool{}
			if s == nil && d == nil {
				return nil // only old versions and delete markers
			}
			return j.pair(s, d)
		}
	)
	for n := 0; ; n++ {
		if n%checkEvery == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		f, err := in.Read()
		if err == errEOF {
			break
		}
		if err != nil {
			return err
		}
		if len(f) != MappedColumns {
			return in.Error(0, fmt.Errorf("%w: got %d, want %d (hex key, side, object record)", tsv.ErrFieldCount, len(f), MappedColumns))
		}
		i := 0
		switch string(f[1]) {
		case TagSrc:
		case TagDst:
			i = 1
		default:
			return in.Errorf(2, "side tag %s: want %s or %s", quote(f[1]), TagSrc, TagDst)
		}
		if key, err = hex.AppendDecode(key[:0], f[0]); err != nil || f[0] == nil {
			return in.Errorf(1, "shuffle key %s is not lower-case hex", quote(f[0]))
		}
		if inGroup {
			switch c := bytes.Compare(key, group); {
			case c < 0:
				return in.Error(1, fmt.Errorf("%w: key %q after %q on line %d", errShuffled, key, group, groupLine))
			case c > 0:
				if err := flush(); err != nil {
					return err
				}
				inGroup = false
			}
		}
		if !inGroup {
			group = append(group[:0], key...)
			groupLine = in.Line()
			inGroup = true
		}
		live, err := sides[i].accept(f[2:], in.Line(), &cur)
		if err != nil {
			return err
		}
		if !bytes.Equal(cur.key, key) {
			return in.Errorf(1, "shuffle key %s does not match the record's key %q", quote(f[0]), cur.key)
		}
		if live {
			held[i].hold(&cur)
			have[i] = true
		}
	}
	if inGroup {
		return flush()
	}
	return nil
}
