package hadooprun

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// keySpec is one -kM,N option of KeyFieldBasedPartitioner (whole fields,
// 1-based, inclusive; N = 0 means to the end of the key).
type keySpec struct{ start, end int }

// parseKeySpecs parses mapreduce.partition.keypartitioner.options. Only
// whole-field specs are supported (-kM or -kM,N); character offsets and the
// -n/-r flags (which the partitioner ignores anyway) are errors here, so a
// step cannot rely on something the runner would get wrong.
func parseKeySpecs(opts string) ([]keySpec, error) {
	var specs []keySpec
	f := strings.Fields(opts)
	for i := 0; i < len(f); i++ {
		arg := f[i]
		if !strings.HasPrefix(arg, "-k") {
			return nil, fmt.Errorf("key partitioner option %q: only -kM[,N] is supported", arg)
		}
		spec := strings.TrimPrefix(arg, "-k")
		if spec == "" && i+1 < len(f) { // "-k 1,2"
			i++
			spec = f[i]
		}
		a, b, hasEnd := strings.Cut(spec, ",")
		m, err := strconv.Atoi(a)
		if err != nil || m < 1 {
			return nil, fmt.Errorf("key partitioner option %q: bad start field", arg)
		}
		n := 0
		if hasEnd {
			if n, err = strconv.Atoi(b); err != nil || n < m {
				return nil, fmt.Errorf("key partitioner option %q: bad end field", arg)
			}
		}
		specs = append(specs, keySpec{m, n})
	}
	return specs, nil
}

// javaUTF8 returns the bytes Java's key.toString().getBytes("UTF-8") gives
// for a Text holding b: valid UTF-8 is unchanged, each malformed byte becomes
// U+FFFD (Java may group some malformed sequences differently; that changes
// which reducer a key lands on, never that equal keys land together).
func javaUTF8(b []byte) []byte {
	if utf8.Valid(b) {
		return b
	}
	out := make([]byte, 0, len(b)+8)
	for len(b) > 0 {
		r, size := utf8.DecodeRune(b)
		if r == utf8.RuneError && size == 1 {
			out = utf8.AppendRune(out, utf8.RuneError)
		} else {
			out = append(out, b[:size]...)
		}
		b = b[size:]
	}
	return out
}

// javaHashBytes is 31*h + b over signed bytes, as Java computes it.
func javaHashBytes(b []byte, h int32) int32 {
	for _, c := range b {
		h = 31*h + int32(int8(c))
	}
	return h
}

// partitionOf returns the partition (0..n-1) of a map output key: with
// specs, KeyFieldBasedPartitioner.getPartition; without, HashPartitioner
// (Text.hashCode = WritableComparator.hashBytes, starting at 1).
func partitionOf(key []byte, specs []keySpec, sep byte, n int) int {
	if n <= 1 {
		return 0
	}
	var h int32
	if specs == nil {
		h = javaHashBytes(key, 1)
	} else {
		kb := javaUTF8(key)
		if len(kb) == 0 {
			return 0
		}
		// Field boundaries: starts[i], ends[i] (exclusive) of field i+1.
		var starts, ends []int
		s := 0
		for i := 0; i <= len(kb); i++ {
			if i == len(kb) || kb[i] == sep {
				starts, ends = append(starts, s), append(ends, i)
				s = i + 1
			}
		}
		for _, k := range specs {
			if k.start > len(starts) {
				continue // no such field: skipped, as Hadoop does
			}
			lo := starts[k.start-1]
			hi := len(kb) // end of key
			if k.end != 0 && k.end <= len(ends) {
				hi = ends[k.end-1]
			}
			h = javaHashBytes(kb[lo:hi], h)
		}
	}
	return int(h&0x7fffffff) % n
}

// splitKeyValue splits a streaming output line at the nth separator: the key
// is the text before it, the value the text after. A line with fewer
// separators is all key, with an empty value.
func splitKeyValue(line []byte, sep byte, n int) (key, value []byte) {
	pos := -1
	for i := 0; i < n; i++ {
		j := bytes.IndexByte(line[pos+1:], sep)
		if j < 0 {
			return line, nil
		}
		pos += 1 + j
	}
	return line[:pos], line[pos+1:]
}
