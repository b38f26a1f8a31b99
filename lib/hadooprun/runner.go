package hadooprun

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sync/errgroup"
)

// Runner runs streaming jobs locally. The zero value is not usable: FS must
// map every s3:// path a job names.
type Runner struct {
	// FS maps s3:// prefixes (e.g. "s3://work/") to local directories. The
	// longest matching prefix wins.
	FS map[string]string
	// Env is the environment every task starts from (a NodeManager's).
	Env []string
	// Slots is how many tasks run at once (default 2).
	Slots int
	// Seed orders the values of one key in the shuffle.
	Seed uint64
	// Faults kill chosen attempts mid-way.
	Faults []*Fault
	// Log receives task stderr lines that are not reporter: lines, prefixed
	// with the attempt id (nil: discarded).
	Log io.Writer
	// Scratch holds attempt working directories ("" = os.TempDir()).
	Scratch string

	mu     sync.Mutex
	jobSeq int
}

// Fault kills one attempt of one task (SIGKILL to its process group) once it
// has written AfterLines lines of output, like a node that dies mid-task.
type Fault struct {
	Job        string // substring of the job name
	Map        bool   // a map task (else a reduce task)
	Task       int
	Attempt    int
	AfterLines int
	Fired      bool // set when the attempt was killed
}

// Attempt is what one task attempt did.
type Attempt struct {
	ID       string
	Err      error // nil: succeeded
	Killed   bool  // by a Fault or the task timeout
	Counters map[string]int64
}

// Result is what a job did.
type Result struct {
	Job         *Job
	MapTasks    int
	ReduceTasks int
	Attempts    []Attempt
	// Counters sums "group,name" over the successful attempts, as Hadoop's
	// job counters do.
	Counters map[string]int64
}

// JobID is Hadoop's job id format; the cluster timestamp is fixed.
const clusterStamp = "1700000000000"

// local maps an s3:// URI (or a local path) to a local path.
func (r *Runner) local(uri string) (string, error) {
	if !strings.HasPrefix(uri, "s3://") {
		return uri, nil
	}
	best := ""
	for p := range r.FS {
		if strings.HasPrefix(uri, p) && len(p) > len(best) {
			best = p
		}
	}
	if best == "" {
		return "", fmt.Errorf("no local directory for %s (Runner.FS)", uri)
	}
	return filepath.Join(r.FS[best], filepath.FromSlash(strings.TrimPrefix(uri, best))), nil
}

// RunSteps runs the steps in order with ActionOnFailure's meaning: CONTINUE
// goes on after a failed step, every other value stops there.
func (r *Runner) RunSteps(ctx context.Context, in *AddJobFlowSteps) ([]*Result, error) {
	var results []*Result
	var firstErr error
	for _, s := range in.Steps {
		if s.HadoopJarStep.Jar != "command-runner.jar" {
			return results, fmt.Errorf("step %q: jar %q: only command-runner.jar is supported", s.Name, s.HadoopJarStep.Jar)
		}
		j, err := ParseStreaming(s.Name, s.HadoopJarStep.Args)
		if err != nil {
			return results, err
		}
		res, err := r.Run(ctx, j)
		results = append(results, res)
		if err != nil {
			err = fmt.Errorf("step %q: %w", s.Name, err)
			if s.ActionOnFailure != "CONTINUE" {
				return results, err
			}
			if firstErr == nil {
				firstErr = err
			}
		}
	}
	return results, firstErr
}

// split is one map task's input.
type split struct {
	uri    string // Hadoop's path of the file (map_input_file)
	start  int64
	length int64
	lines  []inputLine
}

type inputLine struct {
	offset int64
	text   []byte
}

// readLines splits data into lines like Hadoop's LineReader: a line ends at
// LF, CR or CRLF; the last line may lack its end.
func readLines(data []byte) []inputLine {
	var out []inputLine
	var off int64
	for len(data) > 0 {
		i := bytes.IndexAny(data, "\r\n")
		if i < 0 {
			out = append(out, inputLine{off, data})
			break
		}
		n := i + 1
		if data[i] == '\r' && i+1 < len(data) && data[i+1] == '\n' {
			n++
		}
		out = append(out, inputLine{off, data[:i]})
		off += int64(n)
		data = data[n:]
	}
	return out
}

// splits lists the job's input files (a directory's files, skipping names
// starting with _ or ., as FileInputFormat's hidden-file filter does) and
// cuts them into splits.
func (r *Runner) splits(j *Job) ([]split, error) {
	perMap := 1
	if v, ok := j.Conf["mapreduce.input.lineinputformat.linespermap"]; ok {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return nil, fmt.Errorf("mapreduce.input.lineinputformat.linespermap=%q", v)
		}
		perMap = n
	}
	var out []split
	for _, in := range j.Inputs {
		path, err := r.local(in)
		if err != nil {
			return nil, err
		}
		st, err := os.Stat(path)
		if err != nil {
			return nil, fmt.Errorf("input %s: %w", in, err)
		}
		type file struct{ path, uri string }
		var files []file
		if st.IsDir() {
			ents, err := os.ReadDir(path)
			if err != nil {
				return nil, fmt.Errorf("input %s: %w", in, err)
			}
			for _, e := range ents {
				if strings.HasPrefix(e.Name(), "_") || strings.HasPrefix(e.Name(), ".") {
					continue
				}
				if e.IsDir() {
					return nil, fmt.Errorf("input %s: %s is a directory (not read recursively)", in, e.Name())
				}
				files = append(files, file{filepath.Join(path, e.Name()), strings.TrimSuffix(in, "/") + "/" + e.Name()})
			}
		} else {
			files = append(files, file{path, in})
		}
		for _, f := range files {
			data, err := os.ReadFile(f.path)
			if err != nil {
				return nil, err
			}
			size := int64(len(data))
			if j.InputFormat == NLineInputFormat {
				// NLineInputFormat reads the raw bytes: it cannot split
				// compressed files.
				if strings.HasSuffix(f.path, ".gz") {
					return nil, fmt.Errorf("input %s: NLineInputFormat does not decompress %s", in, f.uri)
				}
				lines := readLines(data)
				for i := 0; i < len(lines); i += perMap {
					end := min(i+perMap, len(lines))
					begin := lines[i].offset
					stop := size
					if end < len(lines) {
						stop = lines[end].offset
					}
					s := split{uri: f.uri, start: begin, length: stop - begin, lines: lines[i:end]}
					if begin > 0 { // NLineInputFormat starts later splits one byte early
						s.start, s.length = begin-1, s.length+1
					}
					out = append(out, s)
				}
				continue
			}
			if strings.HasSuffix(f.path, ".gz") {
				zr, err := gzip.NewReader(bytes.NewReader(data))
				if err != nil {
					return nil, fmt.Errorf("input %s: %w", f.uri, err)
				}
				if data, err = io.ReadAll(zr); err != nil {
					return nil, fmt.Errorf("input %s: %w", f.uri, err)
				}
			}
			// One split per file: the files here are far below a block.
			out = append(out, split{uri: f.uri, start: 0, length: size, lines: readLines(data)})
		}
	}
	return out, nil
}

// kv is one map output record.
type kv struct {
	key, value []byte
	part       int
}

// Run runs one job.
func (r *Runner) Run(ctx context.Context, j *Job) (*Result, error) {
	r.mu.Lock()
	r.jobSeq++
	jobNum := fmt.Sprintf("%s_%04d", clusterStamp, r.jobSeq)
	r.mu.Unlock()
	res := &Result{Job: j, Counters: map[string]int64{}}

	out, err := r.local(j.Output)
	if err != nil {
		return res, err
	}
	if _, err := os.Stat(out); err == nil {
		return res, fmt.Errorf("output directory %s already exists", j.Output)
	}
	compress := j.Conf["mapreduce.output.fileoutputformat.compress"] == "true"
	if compress {
		if c := j.Conf["mapreduce.output.fileoutputformat.compress.codec"]; c != "org.apache.hadoop.io.compress.GzipCodec" {
			return res, fmt.Errorf("output codec %q: only GzipCodec is supported", c)
		}
	}
	specs := []keySpec(nil)
	if j.Partitioner == KeyFieldBasedPartitioner {
		if specs, err = parseKeySpecs(j.Conf["mapreduce.partition.keypartitioner.options"]); err != nil {
			return res, err
		}
		if len(specs) == 0 {
			// Hadoop would hash the key's Java String; the steps never need it.
			return res, fmt.Errorf("KeyFieldBasedPartitioner without -k options in mapreduce.partition.keypartitioner.options")
		}
	}
	keyFields := 1
	if v, ok := j.Conf["stream.num.map.output.key.fields"]; ok {
		if keyFields, err = strconv.Atoi(v); err != nil || keyFields < 1 {
			return res, fmt.Errorf("stream.num.map.output.key.fields=%q", v)
		}
	}
	splits, err := r.splits(j)
	if err != nil {
		return res, err
	}
	res.MapTasks, res.ReduceTasks = len(splits), j.Reduces
	tmp := filepath.Join(out, "_temporary")
	if err := os.MkdirAll(tmp, 0o755); err != nil {
		return res, err
	}
	scratch, err := os.MkdirTemp(r.Scratch, "hadooprun-"+jobNum+"-")
	if err != nil {
		return res, err
	}
	defer os.RemoveAll(scratch)

	slots := r.Slots
	if slots < 1 {
		slots = 2
	}
	var mu sync.Mutex
	mapOut := make([][]kv, len(splits))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(slots)
	for i, s := range splits {
		g.Go(func() error {
			var input bytes.Buffer
			ignoreKey := j.InputFormat == TextInputFormat
			if v, ok := j.Conf["stream.map.input.ignoreKey"]; ok {
				ignoreKey = v == "true"
			}
			for _, l := range s.lines {
				if !ignoreKey {
					input.WriteString(strconv.FormatInt(l.offset, 10))
					input.WriteByte('\t')
				}
				input.Write(l.text)
				input.WriteByte('\n')
			}
			t := &task{r: r, j: j, jobNum: jobNum, isMap: true, index: i, split: &s, input: input.Bytes(),
				scratch: scratch, tmp: tmp, out: out, compress: compress, keyFields: keyFields}
			if j.Reduces > 0 {
				t.collect = func(k, v []byte) {
					k, v = bytes.Clone(k), bytes.Clone(v)
					mapOut[i] = append(mapOut[i], kv{k, v, partitionOf(k, specs, '\t', j.Reduces)})
				}
				t.reset = func() { mapOut[i] = nil }
			}
			atts, err := t.run(gctx)
			mu.Lock()
			res.Attempts = append(res.Attempts, atts...)
			mu.Unlock()
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return res, err
	}

	if j.Reduces > 0 {
		// Shuffle: every record to its partition, values of a key in a
		// seeded random order, keys sorted by their bytes (Text's raw
		// comparator).
		parts := make([][]kv, j.Reduces)
		for _, recs := range mapOut {
			for _, rec := range recs {
				parts[rec.part] = append(parts[rec.part], rec)
			}
		}
		rng := rand.New(rand.NewPCG(r.Seed, uint64(r.jobSeq)))
		g, gctx := errgroup.WithContext(ctx)
		g.SetLimit(slots)
		for p := range parts {
			recs := parts[p]
			rng.Shuffle(len(recs), func(a, b int) { recs[a], recs[b] = recs[b], recs[a] })
			sort.SliceStable(recs, func(a, b int) bool { return bytes.Compare(recs[a].key, recs[b].key) < 0 })
			var input bytes.Buffer
			for _, rec := range recs {
				input.Write(rec.key)
				input.WriteByte('\t')
				input.Write(rec.value)
				input.WriteByte('\n')
			}
			g.Go(func() error {
				t := &task{r: r, j: j, jobNum: jobNum, index: p, input: input.Bytes(),
					scratch: scratch, tmp: tmp, out: out, compress: compress, keyFields: 1}
				atts, err := t.run(gctx)
				mu.Lock()
				res.Attempts = append(res.Attempts, atts...)
				mu.Unlock()
				return err
			})
		}
		if err := g.Wait(); err != nil {
			return res, err
		}
	}
	for _, a := range res.Attempts {
		if a.Err == nil {
			for k, v := range a.Counters {
				res.Counters[k] += v
			}
		}
	}
	// Job commit: the promoted part files stay, the rest goes; _SUCCESS.
	if err := os.RemoveAll(tmp); err != nil {
		return res, err
	}
	return res, os.WriteFile(filepath.Join(out, "_SUCCESS"), nil, 0o644)
}

// task is one map or reduce task and its attempts.
type task struct {
	r         *Runner
	j         *Job
	jobNum    string
	isMap     bool
	index     int
	split     *split
	input     []byte
	scratch   string
	tmp       string
	out       string
	compress  bool
	keyFields int
	collect   func(k, v []byte) // map output for the shuffle; nil = write output files
	reset     func()
}

func (t *task) kind() string {
	if t.isMap {
		return "m"
	}
	return "r"
}

// run runs attempts until one succeeds or maxattempts have failed.
func (t *task) run(ctx context.Context) ([]Attempt, error) {
	maxKey := "mapreduce.reduce.maxattempts"
	if t.isMap {
		maxKey = "mapreduce.map.maxattempts"
	}
	max := 4
	if v, ok := t.j.Conf[maxKey]; ok {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return nil, fmt.Errorf("%s=%q", maxKey, v)
		}
		max = n
	}
	var atts []Attempt
	for a := 0; a < max; a++ {
		if t.reset != nil {
			t.reset()
		}
		att := t.attempt(ctx, a)
		atts = append(atts, att)
		if att.Err == nil {
			return atts, nil
		}
		if ctx.Err() != nil {
			return atts, ctx.Err()
		}
	}
	return atts, fmt.Errorf("task %s failed %d attempts; last: %w", t.taskID(), max, atts[len(atts)-1].Err)
}

func (t *task) taskID() string {
	return fmt.Sprintf("task_%s_%s_%06d", t.jobNum, t.kind(), t.index)
}

// env is the task's environment: the runner's, then the job configuration
// as Hadoop exports it (names with non-alphanumerics as '_', deprecated
// aliases too), then the per-task entries, then -cmdenv.
func (t *task) env(attemptID, workOut string) []string {
	conf := map[string]string{}
	var order []string
	set := func(k, v string) {
		if _, ok := conf[k]; !ok {
			order = append(order, k)
		}
		conf[k] = v
	}
	for _, k := range t.j.ConfOrder {
		set(k, t.j.Conf[k])
	}
	inputs := strings.Join(t.j.Inputs, ",")
	set("mapreduce.job.id", "job_"+t.jobNum)
	set("mapreduce.task.id", t.taskID())
	set("mapreduce.task.attempt.id", attemptID)
	set("mapreduce.task.ismap", strconv.FormatBool(t.isMap))
	set("mapreduce.task.partition", strconv.Itoa(t.index))
	set("mapreduce.job.reduces", strconv.Itoa(t.j.Reduces))
	set("mapreduce.input.fileinputformat.inputdir", inputs)
	set("mapreduce.output.fileoutputformat.outputdir", t.j.Output)
	set("mapreduce.task.output.dir", workOut)
	set("mapred.input.format.class", t.j.InputFormat)
	set("stream.map.streamprocessor", url.QueryEscape(t.j.Mapper))
	if t.j.Reducer != "" {
		set("stream.reduce.streamprocessor", url.QueryEscape(t.j.Reducer))
	}
	if t.isMap {
		set("mapreduce.map.input.file", t.split.uri)
		set("mapreduce.map.input.start", strconv.FormatInt(t.split.start, 10))
		set("mapreduce.map.input.length", strconv.FormatInt(t.split.length, 10))
	}
	// Configuration.set writes a key's deprecated names as well.
	for _, k := range append([]string(nil), order...) {
		if old, ok := deprecated[k]; ok {
			set(old, conf[k])
		}
	}
	env := append([]string(nil), t.r.Env...)
	for _, k := range order {
		env = append(env, safeEnvName(k)+"="+conf[k])
	}
	return append(env, t.j.CmdEnv...)
}

// deprecated maps current configuration names to the old names Hadoop sets
// alongside them (Configuration's deprecation table; the ones tasks see).
var deprecated = map[string]string{
	"mapreduce.job.id":                                 "mapred.job.id",
	"mapreduce.task.id":                                "mapred.tip.id",
	"mapreduce.task.attempt.id":                        "mapred.task.id",
	"mapreduce.task.ismap":                             "mapred.task.is.map",
	"mapreduce.task.partition":                         "mapred.task.partition",
	"mapreduce.job.reduces":                            "mapred.reduce.tasks",
	"mapreduce.input.fileinputformat.inputdir":         "mapred.input.dir",
	"mapreduce.output.fileoutputformat.outputdir":      "mapred.output.dir",
	"mapreduce.task.output.dir":                        "mapred.work.output.dir",
	"mapreduce.map.input.file":                         "map.input.file",
	"mapreduce.map.input.start":                        "map.input.start",
	"mapreduce.map.input.length":                       "map.input.length",
	"mapreduce.job.name":                               "mapred.job.name",
	"mapreduce.task.timeout":                           "mapred.task.timeout",
	"mapreduce.map.maxattempts":                        "mapred.map.max.attempts",
	"mapreduce.reduce.maxattempts":                     "mapred.reduce.max.attempts",
	"mapreduce.map.speculative":                        "mapred.map.tasks.speculative.execution",
	"mapreduce.reduce.speculative":                     "mapred.reduce.tasks.speculative.execution",
	"mapreduce.input.lineinputformat.linespermap":      "mapred.line.input.format.linespermap",
	"mapreduce.output.fileoutputformat.compress":       "mapred.output.compress",
	"mapreduce.partition.keypartitioner.options":       "mapred.text.key.partitioner.options",
	"mapreduce.output.fileoutputformat.compress.codec": "mapred.output.compression.codec",
}

// safeEnvName is PipeMapRed.safeEnvVarName: every character that is not an
// ASCII letter or digit becomes '_'.
func safeEnvName(s string) string {
	b := []byte(s)
	for i, c := range b {
		if !('0' <= c && c <= '9' || 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z') {
			b[i] = '_'
		}
	}
	return string(b)
}

// attempt runs one attempt in its own working directory holding the -files.
func (t *task) attempt(ctx context.Context, n int) (att Attempt) {
	att.ID = fmt.Sprintf("attempt_%s_%s_%06d_%d", t.jobNum, t.kind(), t.index, n)
	att.Counters = map[string]int64{}
	fail := func(err error) Attempt { att.Err = err; return att }
	cwd := filepath.Join(t.scratch, att.ID)
	if err := os.MkdirAll(cwd, 0o755); err != nil {
		return fail(err)
	}
	defer os.RemoveAll(cwd)
	for _, f := range t.j.Files {
		src, err := t.r.local(f)
		if err != nil {
			return fail(err)
		}
		data, err := os.ReadFile(src)
		if err != nil {
			return fail(fmt.Errorf("-files %s: %w", f, err))
		}
		// Localized cache files are read-only and executable (0555).
		if err := os.WriteFile(filepath.Join(cwd, filepath.Base(f)), data, 0o555); err != nil {
			return fail(err)
		}
	}
	workOut := filepath.Join(t.tmp, att.ID)
	if err := os.MkdirAll(workOut, 0o755); err != nil {
		return fail(err)
	}
	name := fmt.Sprintf("part-%05d", t.index)
	if t.compress {
		name += ".gz"
	}
	var outFile *os.File
	var outW io.Writer
	var zw *gzip.Writer
	if t.collect == nil {
		f, err := os.Create(filepath.Join(workOut, name))
		if err != nil {
			return fail(err)
		}
		outFile, outW = f, f
		defer f.Close()
		if t.compress {
			zw = gzip.NewWriter(f)
			outW = zw
		}
	}

	cmdText := t.j.Reducer
	if t.isMap {
		cmdText = t.j.Mapper
	}
	argv := SplitArgs(cmdText)
	if len(argv) == 0 {
		return fail(fmt.Errorf("empty command"))
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	if strings.Contains(argv[0], "/") && !filepath.IsAbs(argv[0]) {
		cmd.Path = filepath.Join(cwd, argv[0])
	}
	cmd.Dir = cwd
	cmd.Env = t.env(att.ID, workOut)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return fail(err)
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return fail(err)
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return fail(err)
	}
	if err := cmd.Start(); err != nil {
		return fail(fmt.Errorf("start %q: %w", cmdText, err))
	}
	pgid := cmd.Process.Pid
	var killOnce sync.Once
	var killed atomic.Bool
	kill := func() {
		killOnce.Do(func() {
			killed.Store(true)
			syscall.Kill(-pgid, syscall.SIGKILL)
		})
	}
	stop := context.AfterFunc(ctx, kill)
	defer stop()

	// mapreduce.task.timeout: no output and no stderr line for that long
	// kills the attempt (0 = never).
	timeout := 600 * time.Second
	if v, ok := t.j.Conf["mapreduce.task.timeout"]; ok {
		ms, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			kill()
			cmd.Wait()
			return fail(fmt.Errorf("mapreduce.task.timeout=%q", v))
		}
		timeout = time.Duration(ms) * time.Millisecond
	}
	progress := func() {}
	if timeout > 0 {
		watchdog := time.AfterFunc(timeout, kill)
		defer watchdog.Stop()
		progress = func() { watchdog.Reset(timeout) }
	}
	var fault *Fault
	for _, f := range t.r.Faults {
		if strings.Contains(t.j.Name, f.Job) && f.Map == t.isMap && f.Task == t.index && f.Attempt == n && !f.Fired {
			fault = f
		}
	}

	var io3 errgroup.Group
	// stdin: Hadoop fails a task whose command exits without reading all of
	// its input ("Broken pipe").
	var stdinErr error
	io3.Go(func() error {
		_, stdinErr = stdin.Write(t.input)
		if err := stdin.Close(); stdinErr == nil {
			stdinErr = err
		}
		return nil
	})
	io3.Go(func() error {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 64<<10), 4<<20)
		for sc.Scan() {
			progress()
			line := sc.Text()
			if rest, ok := strings.CutPrefix(line, "reporter:counter:"); ok {
				// group,counter,amount; the group and name hold no comma.
				f := strings.Split(rest, ",")
				if len(f) == 3 {
					if v, err := strconv.ParseInt(f[2], 10, 64); err == nil {
						att.Counters[f[0]+","+f[1]] += v
						continue
					}
				}
			}
			if strings.HasPrefix(line, "reporter:status:") {
				continue
			}
			if t.r.Log != nil {
				t.r.mu.Lock()
				fmt.Fprintf(t.r.Log, "%s: %s\n", att.ID, line)
				t.r.mu.Unlock()
			}
		}
		io.Copy(io.Discard, stderr)
		return nil
	})
	lines := 0
	readErr := eachLine(stdout, func(line []byte) {
		lines++
		progress()
		if killed.Load() {
			return
		}
		if fault != nil && lines >= fault.AfterLines {
			fault.Fired = true
			kill()
			return
		}
		k, v := splitKeyValue(line, '\t', t.keyFields)
		if t.collect != nil {
			t.collect(k, v)
			return
		}
		// TextOutputFormat: key TAB value (an empty value still gets its TAB).
		outW.Write(k)
		outW.Write([]byte{'\t'})
		outW.Write(v)
		outW.Write([]byte{'\n'})
	})
	io3.Wait()
	waitErr := cmd.Wait()
	att.Killed = killed.Load()
	switch {
	case att.Killed:
		return fail(fmt.Errorf("attempt %s killed", att.ID))
	case readErr != nil:
		return fail(readErr)
	case waitErr != nil:
		return fail(fmt.Errorf("%q: %w", cmdText, waitErr))
	case stdinErr != nil:
		return fail(fmt.Errorf("%q did not read all its input: %w", cmdText, stdinErr))
	}
	if t.collect != nil {
		return att
	}
	if zw != nil {
		if err := zw.Close(); err != nil {
			return fail(err)
		}
	}
	if err := outFile.Close(); err != nil {
		return fail(err)
	}
	// Task commit: promote the attempt's file into the output directory.
	if err := os.Rename(filepath.Join(workOut, name), filepath.Join(t.out, name)); err != nil {
		return fail(err)
	}
	return att
}

// eachLine calls fn for each line read from r as it arrives, with Hadoop
// LineReader's rules (LF, CR or CRLF ends a line; the last may lack it).
func eachLine(r io.Reader, fn func([]byte)) error {
	br := bufio.NewReaderSize(r, 64<<10)
	var line []byte
	for {
		b, err := br.ReadByte()
		if err == io.EOF {
			if len(line) > 0 {
				fn(line)
			}
			return nil
		}
		if err != nil {
			return err
		}
		switch b {
		case '\n':
			fn(line)
			line = line[:0]
		case '\r':
			fn(line)
			line = line[:0]
			if next, err := br.Peek(1); err == nil && next[0] == '\n' {
				br.ReadByte()
			}
		default:
			line = append(line, b)
		}
	}
}
