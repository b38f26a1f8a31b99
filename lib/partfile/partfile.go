// Package partfile owns s3list's part-file lines: one listing unit per line,
// a Campanile `delimiter,prefix` line, an escaped-TSV key-range line
// `range<TAB>PREFIX<TAB>AFTER<TAB>UNTIL`, or an escaped-TSV S3 Inventory unit
// line `inventory<TAB>BUCKET<TAB>KEY<TAB>SIZE<TAB>MD5<TAB>FILESCHEMA` (one
// data file of a report; lib/inventory owns its fields). See docs/FORMAT.md.
// It parses them with line numbers and writes range lines.
package partfile

import (
	"bytes"
	"errors"
	"fmt"
	"io"

	"github.com/s3pipe/s3pipe/lib/inventory"
	"github.com/s3pipe/s3pipe/lib/record"
	"github.com/s3pipe/s3pipe/lib/tsv"
)

// Kind is the kind of a listing unit.
type Kind int

const (
	// Campanile lists Prefix with Delimiter and emits only objects; with an
	// empty Delimiter it lists everything under Prefix.
	Campanile Kind = iota + 1
	// Range lists keys k with prefix Prefix and After < k <= Until in raw
	// byte order; After "" is the start of the prefix, HasUntil false the end.
	Range
	// Inventory reads one data file of an S3 Inventory report (Unit.Inventory)
	// instead of listing.
	Inventory
)

// RangeTag is the first field of a range line.
const RangeTag = "range"

// Unit is one listing unit.
type Unit struct {
	Line      int64 // 1-based line number in the part file (0 when built in code)
	Kind      Kind
	Prefix    string
	Delimiter string // Campanile only
	After     string // Range only: exclusive lower bound, "" = from the start
	Until     string // Range only: inclusive upper bound when HasUntil
	HasUntil  bool   // Range only: false = to the end of the prefix (\N)

	Inventory inventory.Unit // Inventory only
}

// Contains reports whether key belongs to a Range unit's keys, ignoring the
// prefix (the listing request filters by prefix).
func (u *Unit) Contains(key string) bool {
	return key > u.After && (!u.HasUntil || key <= u.Until)
}

// String describes the unit for error messages (Go-quoted, so keys with
// control bytes stay on one line).
func (u *Unit) String() string {
	where := ""
	if u.Line > 0 {
		where = fmt.Sprintf("line %d: ", u.Line)
	}
	switch u.Kind {
	case Campanile:
		return fmt.Sprintf("%sprefix %q delimiter %q", where, u.Prefix, u.Delimiter)
	case Range:
		until := `\N`
		if u.HasUntil {
			until = fmt.Sprintf("%q", u.Until)
		}
		return fmt.Sprintf("%sprefix %q after %q until %s", where, u.Prefix, u.After, until)
	case Inventory:
		return fmt.Sprintf("%sinventory data file %q of bucket %q", where, u.Inventory.File.Key, u.Inventory.Bucket)
	}
	return where + "unknown unit"
}

// Errors a parse error may wrap.
var (
	ErrNoComma     = errors.New("campanile line needs a comma: `delimiter,prefix` (use `,prefix` for no delimiter)")
	ErrTrailingCR  = errors.New("line ends with a carriage return (CRLF line ending?); use a range line for a prefix that ends with CR")
	ErrRangeFields = errors.New("range line needs 4 tab-separated fields: range, PREFIX, AFTER, UNTIL")
	ErrRangeEmpty  = errors.New("range is empty: AFTER must sort before UNTIL")
	ErrNullField   = errors.New(`must not be NULL (\N)`)
	ErrNoOffset    = errors.New("expected a Hadoop streaming byte-offset key and a tab before the line")
)

// Reader reads units from a part file.
type Reader struct {
	r *tsv.Reader
}

// NewReader reads part-file lines through r. r.Name labels errors; with
// r.SkipKey (a Hadoop NLineInputFormat mapper) each line starts with a
// decimal byte offset and a tab, which is dropped for both line kinds.
func NewReader(r *tsv.Reader) *Reader { return &Reader{r: r} }

// Read returns the next unit, skipping blank lines and `#` comments. At the
// end of input it returns io.EOF. Errors are *tsv.ParseError with the line.
func (p *Reader) Read() (Unit, error) {
	for {
		line, err := p.r.ReadLine()
		if err != nil {
			return Unit{}, err
		}
		if p.r.SkipKey {
			i := bytes.IndexByte(line, '\t')
			if i <= 0 || !digits(line[:i]) {
				return Unit{}, p.r.Error(1, ErrNoOffset)
			}
			line = line[i+1:]
		}
		u, col, err := ParseLine(line)
		if err != nil {
			if p.r.SkipKey && col > 0 {
				col++ // the offset field was column 1
			}
			return Unit{}, p.r.Error(col, err)
		}
		if u.Kind == 0 {
			continue // blank or comment
		}
		u.Line = p.r.Line()
		return u, nil
	}
}

// ReadAll reads every unit.
func (p *Reader) ReadAll() ([]Unit, error) {
	var units []Unit
	for {
		u, err := p.Read()
		if err == io.EOF {
			return units, nil
		}
		if err != nil {
			return nil, err
		}
		units = append(units, u)
	}
}

func digits(b []byte) bool {
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return len(b) > 0
}

// ParseLine parses one line without its newline. A blank or comment line
// returns a Unit with Kind 0. On error, col is the 1-based TSV column of a
// range line (0 for the whole line).
func ParseLine(line []byte) (u Unit, col int, err error) {
	if len(line) == 0 || line[0] == '#' {
		return Unit{}, 0, nil
	}
	if bytes.HasPrefix(line, []byte(RangeTag+"\t")) {
		return parseRange(line)
	}
	if bytes.HasPrefix(line, []byte(inventory.UnitTag+"\t")) {
		return parseInventory(line)
	}
	if line[len(line)-1] == '\r' {
		return Unit{}, 0, ErrTrailingCR
	}
	// Campanile lines are raw: split at the FIRST comma, so a prefix may
	// hold commas but a delimiter cannot.
	i := bytes.IndexByte(line, ',')
	if i < 0 {
		return Unit{}, 0, ErrNoComma
	}
	return Unit{Kind: Campanile, Delimiter: string(line[:i]), Prefix: string(line[i+1:])}, 0, nil
}

func parseRange(line []byte) (Unit, int, error) {
	raw := bytes.Split(line, []byte{'\t'})
	if len(raw) != 4 {
		return Unit{}, 0, fmt.Errorf("%w (got %d)", ErrRangeFields, len(raw))
	}
	var f [4][]byte
	for i, r := range raw {
		v, err := tsv.Unescape(r)
		if err != nil {
			return Unit{}, i + 1, err
		}
		f[i] = v
	}
	names := [4]string{"", "PREFIX", "AFTER", "UNTIL"}
	for i := 1; i <= 2; i++ {
		if f[i] == nil {
			return Unit{}, i + 1, fmt.Errorf("%s %w", names[i], ErrNullField)
		}
	}
	u := Unit{Kind: Range, Prefix: string(f[1]), After: string(f[2])}
	if f[3] != nil {
		u.Until, u.HasUntil = string(f[3]), true
		if u.After >= u.Until {
			return Unit{}, 4, fmt.Errorf("%w (after %q, until %q)", ErrRangeEmpty, u.After, u.Until)
		}
	}
	return u, 0, nil
}

// parseInventory parses an inventory unit line: its fields are escaped like
// a record's, and inventory.ParseUnit checks them.
func parseInventory(line []byte) (Unit, int, error) {
	raw := bytes.Split(line, []byte{'\t'})
	f := make([][]byte, len(raw))
	for i, r := range raw {
		v, err := tsv.Unescape(r)
		if err != nil {
			return Unit{}, i + 1, err
		}
		f[i] = v
	}
	iu, err := inventory.ParseUnit(f)
	if err != nil {
		var ce *record.ColumnError
		if errors.As(err, &ce) {
			return Unit{}, ce.Column, ce
		}
		return Unit{}, 0, err
	}
	return Unit{Kind: Inventory, Inventory: iu}, 0, nil
}

// WriteRange writes u as a range line.
func WriteRange(w *tsv.Writer, u Unit) error {
	w.String(RangeTag)
	w.String(u.Prefix)
	w.String(u.After)
	if u.HasUntil {
		w.String(u.Until)
	} else {
		w.Null()
	}
	return w.End()
}
