package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/s3pipe/s3pipe/lib/counters"
	"github.com/s3pipe/s3pipe/lib/infile"
	"github.com/s3pipe/s3pipe/lib/mergejoin"
	"github.com/s3pipe/s3pipe/lib/stream"
	"github.com/s3pipe/s3pipe/lib/tsv"
)

func run(ctx context.Context, c *CLI, sio *stream.IO) (err error) {
	if c.MapSide != "" && c.Reducer {
		return stream.Usagef("--map-side and --reducer are two different tasks; give one")
	}
	set := mergejoin.NewCounters()
	progress := counters.Progress{Records: mergejoin.CounterSrcRecords}
	if c.MapSide != "" {
		progress = counters.Progress{Records: mergejoin.CounterMapped}
	}
	stdout := tsv.NewWriter(sio.Stdout)
	rep := sio.Reporter(set, c.Flags, progress)
	defer func() {
		if ferr := stdout.Flush(); err == nil && ferr != nil {
			err = fmt.Errorf("write stdout: %w", ferr)
		}
		rep.Stop()
	}()
	if c.MapSide != "" {
		return runMap(ctx, c, sio, stdout, set)
	}
	rule, err := mergejoin.ParseRule(c.Compare)
	if err != nil {
		return stream.Usagef("--compare: %v", err)
	}
	opt := mergejoin.Options{Rule: rule}
	var closers []func() error
	defer func() {
		for _, cl := range closers {
			if cerr := cl(); err == nil && cerr != nil {
				err = cerr
			}
		}
	}()
	for _, o := range []struct {
		flag, name string
		w          **tsv.Writer
		emit       string
	}{{"--report", c.Report, &opt.Report, "report"}, {"--extra", c.Extra, &opt.Extra, "extra"}} {
		if c.Emit == o.emit {
			if o.name != "" {
				return stream.Usagef("%s and --emit %s both ask for the %s; give one", o.flag, o.emit, o.emit)
			}
			*o.w = stdout
			continue
		}
		if o.name == "" {
			continue
		}
		f, err := os.Create(o.name)
		if err != nil {
			return fmt.Errorf("%s: %w", o.flag, err)
		}
		w := tsv.NewWriter(f)
		*o.w = w
		name := o.name
		closers = append(closers, func() error {
			err := w.Flush()
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return fmt.Errorf("write %s: %w", name, err)
			}
			return nil
		})
	}
	if c.Emit == "copy" {
		opt.Copy = stdout
	}
	j := mergejoin.New(set, opt)

	if c.Reducer {
		return j.Reduce(ctx, sio.Input(c.Flags))
	}
	if c.Dst == "" {
		return stream.Usagef("--dst FILE is required: the destination listing (the source listing is read from --src, default stdin)")
	}
	if c.Src == "-" && c.Dst == "-" {
		return stream.Usagef("--src and --dst cannot both be - (stdin)")
	}
	src, err := open(c.Src, sio, c.Flags)
	if err != nil {
		return err
	}
	closers = append(closers, src.Close)
	dst, err := open(c.Dst, sio, c.Flags)
	if err != nil {
		return err
	}
	closers = append(closers, dst.Close)
	return j.Join(ctx, src.Reader, dst.Reader)
}

// input is an opened listing.
type input struct {
	*tsv.Reader
	rc io.ReadCloser
}

func (i input) Close() error { return i.rc.Close() }

func open(name string, sio *stream.IO, f stream.Flags) (input, error) {
	rc, err := infile.Open(name, sio.Stdin)
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			return input{}, stream.Usagef("%v", err)
		}
		return input{}, &stream.InputError{Err: err}
	}
	r := tsv.NewReader(readErrs{rc})
	r.Name = name
	if name == "-" {
		r.Name = "stdin"
	}
	if f.MaxLine > 0 {
		r.MaxLine = f.MaxLine
	}
	return input{Reader: r, rc: rc}, nil
}

// readErrs marks a listing's read errors (a truncated or corrupt .gz or
// .zst above all) as input errors: exit 2, like a malformed line, not 3.
type readErrs struct{ io.Reader }

func (r readErrs) Read(p []byte) (int, error) {
	n, err := r.Reader.Read(p)
	if err != nil && err != io.EOF {
		err = &stream.InputError{Err: err}
	}
	return n, err
}

// Environment variables Hadoop streaming sets to the mapper's input file.
var inputFileEnv = []string{"mapreduce_map_input_file", "map_input_file"}

func runMap(ctx context.Context, c *CLI, sio *stream.IO, out *tsv.Writer, set *counters.Set) error {
	tag := c.MapSide
	if tag == "input" {
		if c.MapDstPrefix == "" {
			return stream.Usagef("--map-side input needs --map-dst-prefix")
		}
		file := ""
		for _, k := range inputFileEnv {
			if file = sio.Getenv(k); file != "" {
				break
			}
		}
		if file == "" {
			return stream.Usagef("--map-side input: no input file name in the task environment (%s)", strings.Join(inputFileEnv, ", "))
		}
		tag = mergejoin.TagSrc
		if strings.HasPrefix(file, c.MapDstPrefix) {
			tag = mergejoin.TagDst
		}
	}
	return mergejoin.Map(ctx, sio.Input(c.Flags), tag, out, set)
}
