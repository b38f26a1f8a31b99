package partplan

import (
	"fmt"

	"github.com/s3pipe/s3pipe/lib/partfile"
)

// Problem is one reason a part file does not provably list every key once.
type Problem struct {
	Line int64 // the line the problem is found at
	Msg  string
}

func (p Problem) String() string { return fmt.Sprintf("line %d: %s", p.Line, p.Msg) }

// Check verifies that range units tile their prefix's keyspace exactly once:
// one prefix, the first AFTER empty, each AFTER equal to the previous UNTIL,
// the last UNTIL \N. Campanile lines cannot be proven to cover anything (a
// delimiter listing skips every key below a common prefix), so each one is a
// problem too, and so is an inventory unit line. No problems means every key
// under the prefix is in exactly one unit.
func Check(units []partfile.Unit) []Problem {
	var probs []Problem
	add := func(line int64, format string, args ...any) {
		probs = append(probs, Problem{Line: line, Msg: fmt.Sprintf(format, args...)})
	}
	var ranges []partfile.Unit
	for _, u := range units {
		if u.Kind == partfile.Campanile {
			add(u.Line, "campanile line (delimiter %q, prefix %q): its coverage cannot be proven; use range lines (s3list --plan-parts)", u.Delimiter, u.Prefix)
			continue
		}
		if u.Kind == partfile.Inventory {
			add(u.Line, "inventory unit line (data file %q): inventory units cover a report's data files, not a key range; check them against the report's manifest", u.Inventory.File.Key)
			continue
		}
		ranges = append(ranges, u)
	}
	if len(ranges) == 0 {
		if len(units) == 0 {
			add(0, "no units: the part file is empty")
		}
		return probs
	}
	first := ranges[0]
	if first.After != "" {
		add(first.Line, "gap: keys up to and including %q are not covered (the first range's AFTER must be empty)", first.After)
	}
	for i := 1; i < len(ranges); i++ {
		prev, cur := ranges[i-1], ranges[i]
		if cur.Prefix != first.Prefix {
			add(cur.Line, "prefix %q differs from line %d's prefix %q", cur.Prefix, first.Line, first.Prefix)
			continue
		}
		switch {
		case !prev.HasUntil:
			add(cur.Line, "overlap: line %d already covers every key after %q (only the last range may end in \\N)", prev.Line, prev.After)
		case cur.After > prev.Until:
			add(cur.Line, "gap: keys in (%q, %q] are not covered between lines %d and %d", prev.Until, cur.After, prev.Line, cur.Line)
		case cur.After < prev.Until:
			hi := prev.Until
			if cur.HasUntil && cur.Until < hi {
				hi = cur.Until
			}
			add(cur.Line, "overlap: keys in (%q, %q] are listed by both line %d and line %d", cur.After, hi, prev.Line, cur.Line)
		}
	}
	if last := ranges[len(ranges)-1]; last.HasUntil {
		add(last.Line, "gap: keys after %q are not covered (the last range's UNTIL must be \\N)", last.Until)
	}
	return probs
}
