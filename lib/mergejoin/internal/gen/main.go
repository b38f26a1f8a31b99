// Command gen writes two sorted object-record listings for benchmarking
// s3diff: -n source rows and a destination that differs in about -diff of
// them (a third missing, a third changed, a third extra keys).
//
//	go run ./lib/mergejoin/internal/gen -n 10000000 -src src.tsv -dst dst.tsv
package main

import (
	"bufio"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
)

func main() {
	n := flag.Int("n", 1_000_000, "source rows")
	diff := flag.Float64("diff", 0.01, "fraction of keys that differ")
	seed := flag.Uint64("seed", 1, "random seed")
	srcName := flag.String("src", "src.tsv", "source listing to write")
	dstName := flag.String("dst", "dst.tsv", "destination listing to write")
	flag.Parse()
	if err := gen(*n, *diff, *seed, *srcName, *dstName); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

func gen(n int, diff float64, seed uint64, srcName, dstName string) error {
	sf, err := os.Create(srcName)
	if err != nil {
		return err
	}
	df, err := os.Create(dstName)
	if err != nil {
		return err
	}
	src, dst := bufio.NewWriterSize(sf, 1<<20), bufio.NewWriterSize(df, 1<<20)
	rng := rand.New(rand.NewPCG(seed, 1))
	var line []byte
	write := func(w *bufio.Writer, key []byte, etag uint64, size int) {
		line = append(line[:0], key...)
		line = append(line, '\t')
		line = fmt.Appendf(line, "%016x%016x", etag, etag*0x9e3779b97f4a7c15)
		line = append(line, '\t')
		line = strconv.AppendInt(line, int64(size), 10)
		line = append(line, "\t2024-03-17 12:34:56\tSTANDARD\t\\N\t\\N\tfalse\tsource-bucket-01\n"...)
		w.Write(line)
	}
	var key []byte
	for i := range n {
		// Keys ascend with i; about one in 50 holds a byte that is escaped
		// on the wire (a tab, written \t), as real buckets sometimes do.
		key = fmt.Appendf(key[:0], "data/warehouse/events/year=2024/month=%02d/part-%010d.parquet", i*12/n+1, i)
		if i%50 == 0 {
			key = append(key, `\tdraft`...) // escaped form of a raw tab
		}
		etag, size := rng.Uint64(), 1024+rng.IntN(1<<20)
		write(src, key, etag, size)
		if rng.Float64() >= diff {
			write(dst, key, etag, size)
			continue
		}
		switch rng.IntN(3) {
		case 0: // missing at the destination
		case 1: // changed
			write(dst, key, etag+1, size)
		default: // same, plus an extra key at the destination
			write(dst, key, etag, size)
			write(dst, append(key, "~extra"...), etag, size)
		}
	}
	for _, c := range []struct {
		w *bufio.Writer
		f *os.File
	}{{src, sf}, {dst, df}} {
		if err := c.w.Flush(); err != nil {
			return err
		}
		if err := c.f.Close(); err != nil {
			return err
		}
	}
	return nil
}
