package hadooprun

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/s3pipe/s3pipe/lib/fleettest"
	"github.com/s3pipe/s3pipe/lib/s3test"
)

func TestMain(m *testing.M) {
	code := s3test.Run(m)
	fleettest.Cleanup()
	os.Exit(code)
}

// emrSteps runs scripts/s3pipe-emr and returns its JSON.
func emrSteps(t *testing.T, args ...string) []byte {
	t.Helper()
	cmd := exec.Command(filepath.Join(fleettest.RepoRoot(), "scripts", "s3pipe-emr"), args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("s3pipe-emr %q: %v\n%s", args, err, stderr.String())
	}
	return out
}

// TestEMRStepShape checks the generated JSON against the AddJobFlowSteps
// API (field names, required fields, allowed ActionOnFailure values,
// lengths) and each step's Hadoop streaming options.
func TestEMRStepShape(t *testing.T) {
	for _, tt := range []struct {
		name  string
		args  []string
		steps []string
	}{
		{"files", []string{"--bin", "s3://tools/s3pipe/v1/"}, []string{"list-src", "list-dst", "diff", "plan", "copy", "cleanup"}},
		{"installed-no-diff", []string{"--installed", "/usr/local/bin", "--no-diff", "--keep-uploads", "--cluster-id", "j-ABC123",
			"--action-on-failure", "CONTINUE", "--src-profile", "src", "--dst-profile", "dst", "--task-env", "AWS_CONFIG_FILE=/etc/s3pipe/config"},
			[]string{"list-src", "plan", "copy"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"--parts", "s3://work/parts.tsv", "--work", "s3://work/run-1/", "--reducers", "8"}, tt.args...)
			data := emrSteps(t, append(args, "s3://src-bucket/logs/", "s3://dst-bucket")...)
			in, err := ParseSteps(data)
			if err != nil {
				t.Fatalf("%v\n%s", err, data)
			}
			if err := in.Validate(); err != nil {
				t.Fatal(err)
			}
			if strings.Contains(tt.name, "installed") != (in.JobFlowId == "j-ABC123") {
				t.Errorf("JobFlowId %q", in.JobFlowId)
			}
			var names []string
			for _, s := range in.Steps {
				names = append(names, strings.TrimPrefix(s.Name, "s3pipe: "))
				if s.HadoopJarStep.Jar != "command-runner.jar" {
					t.Errorf("%s: Jar %q", s.Name, s.HadoopJarStep.Jar)
				}
				j, err := ParseStreaming(s.Name, s.HadoopJarStep.Args)
				if err != nil {
					t.Fatal(err)
				}
				// Every step: no speculative attempts, timeout, attempts, gzip.
				for k, v := range map[string]string{
					"mapreduce.map.speculative": "false", "mapreduce.reduce.speculative": "false",
					"mapreduce.task.timeout": "1800000", "mapreduce.map.maxattempts": "4", "mapreduce.reduce.maxattempts": "4",
					"mapreduce.output.fileoutputformat.compress":       "true",
					"mapreduce.output.fileoutputformat.compress.codec": "org.apache.hadoop.io.compress.GzipCodec",
				} {
					if j.Conf[k] != v {
						t.Errorf("%s: -D %s=%q, want %q", s.Name, k, j.Conf[k], v)
					}
				}
				if strings.Contains(tt.name, "installed") {
					if len(j.Files) != 0 || !strings.HasPrefix(j.Mapper, "/usr/local/bin/") && !strings.HasPrefix(j.Mapper, "bash -c '/usr/local/bin/") {
						t.Errorf("%s: installed binaries: files %q mapper %q", s.Name, j.Files, j.Mapper)
					}
					if !contains(j.CmdEnv, "AWS_CONFIG_FILE=/etc/s3pipe/config") {
						t.Errorf("%s: -cmdenv %q", s.Name, j.CmdEnv)
					}
				} else if len(j.Files) != 5 {
					t.Errorf("%s: -files %q, want the 5 binaries", s.Name, j.Files)
				}
				switch {
				case strings.HasSuffix(s.Name, "list-src"), strings.HasSuffix(s.Name, "list-dst"):
					if j.InputFormat != NLineInputFormat || j.Conf["mapreduce.input.lineinputformat.linespermap"] != "1" || j.Reduces != 0 {
						t.Errorf("%s: want NLineInputFormat, 1 line per map, no reducers: %+v", s.Name, j)
					}
				case strings.HasSuffix(s.Name, "copy"):
					if j.Conf["stream.num.map.output.key.fields"] != "9" || j.Conf["mapreduce.partition.keypartitioner.options"] != "-k1,1 -k8,9" ||
						j.Partitioner != KeyFieldBasedPartitioner || j.Reduces != 8 || !strings.Contains(j.Reducer, "s3mpdone") {
						t.Errorf("%s: copy+complete keying: %+v", s.Name, j)
					}
				case strings.HasSuffix(s.Name, "diff"):
					if j.Conf["stream.num.map.output.key.fields"] != "1" || j.Partitioner != KeyFieldBasedPartitioner || !strings.Contains(j.Reducer, "--reducer") {
						t.Errorf("%s: %+v", s.Name, j)
					}
				}
			}
			if strings.Join(names, ",") != strings.Join(tt.steps, ",") {
				t.Errorf("steps %v, want %v", names, tt.steps)
			}
		})
	}

	// Bad input is refused, not turned into a broken step.
	for _, bad := range [][]string{
		{"--work", "s3://w/", "--bin", "s3://b/", "s3://s", "s3://d"},                                                // no --parts
		{"--parts", "s3://w/p", "--work", "s3://w/", "s3://s", "s3://d"},                                             // no binaries
		{"--parts", "s3://w/p", "--work", "s3://w/", "--bin", "s3://b/", "--submit", "s3://s", "s3://d"},             // --submit without cluster
		{"--parts", "s3://w/p", "--work", "s3://w/", "--bin", "s3://b/", "--src-profile", "a b", "s3://s", "s3://d"}, // unquotable value
		{"--parts", "s3://w/p", "--work", "s3://w/", "--bin", "s3://b/", "--action-on-failure", "STOP", "s3://s", "s3://d"},
	} {
		cmd := exec.Command(filepath.Join(fleettest.RepoRoot(), "scripts", "s3pipe-emr"), bad...)
		if out, err := cmd.CombinedOutput(); err == nil {
			t.Errorf("s3pipe-emr %q: want an error, got:\n%s", bad, out)
		}
	}
}

// readParts concatenates a job output directory's part files.
func readParts(t *testing.T, dir string) []byte {
	t.Helper()
	names, err := filepath.Glob(filepath.Join(dir, "part-*"))
	if err != nil || len(names) == 0 {
		t.Fatalf("no part files in %s: %v", dir, err)
	}
	sort.Strings(names)
	var out bytes.Buffer
	for _, n := range names {
		b, err := os.ReadFile(n)
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasSuffix(n, ".gz") {
			zr, err := gzip.NewReader(bytes.NewReader(b))
			if err != nil {
				t.Fatalf("%s: %v", n, err)
			}
			if b, err = io.ReadAll(zr); err != nil {
				t.Fatalf("%s: %v", n, err)
			}
		}
		out.Write(b)
	}
	return out.Bytes()
}

// normalizeReport sorts report lines and blanks the destination bucket
// (column 13), the only column two runs into different buckets differ in.
func normalizeReport(t *testing.T, data []byte) []string {
	t.Helper()
	var out []string
	for _, l := range strings.Split(strings.TrimSuffix(string(data), "\n"), "\n") {
		if l == "" {
			continue
		}
		f := strings.Split(l, "\t")
		if len(f) != 15 {
			t.Fatalf("report line with %d columns: %q", len(f), l)
		}
		f[12] = "DST"
		out = append(out, strings.Join(f, "\t"))
	}
	sort.Strings(out)
	return out
}

// TestEMRChainMatchesPipe runs the steps scripts/s3pipe-emr generates under
// the local streaming runner against MinIO (stream mode, two servers), with
// a listing attempt and a copy attempt killed mid-way, and checks that the
// destination and the report equal those of the plain pipe run.
func TestEMRChainMatchesPipe(t *testing.T) {
	srvA, srvB := s3test.A(t), s3test.B(t)
	bin := fleettest.Binaries(t)
	ca, cb := srvA.Client(t), srvB.Client(t)
	src := srvA.Bucket(t, false)
	dstEMR, dstPipe := srvB.Bucket(t, false), srvB.Bucket(t, false)
	ds := fleettest.Dataset{Small: 500, Multipart: 3, Same: 60, Changed: 20}
	srcObjects := fleettest.Seed(t, ca, src, cb, ds, dstEMR, dstPipe)

	sideA := []string{"--src-profile", srvA.Profile, "--src-endpoint-url", srvA.Endpoint, "--src-region", "us-east-1", "--src-path-style", "true"}
	sideB := []string{"--dst-profile", srvB.Profile, "--dst-endpoint-url", srvB.Endpoint, "--dst-region", "us-east-1", "--dst-path-style", "true"}
	bAsSrc := []string{"--src-profile", srvB.Profile, "--src-endpoint-url", srvB.Endpoint, "--src-region", "us-east-1", "--src-path-style", "true"}
	tool := func(name string, stdin io.Reader, args ...string) []byte {
		t.Helper()
		cmd := exec.Command(filepath.Join(bin, name), args...)
		cmd.Stdin = stdin
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("%s %q: %v\n%s", name, args, err, stderr.String())
		}
		return out
	}

	work := t.TempDir()
	parts := tool("s3list", nil, append([]string{"--bucket", src, "--plan-parts", "5", "-q"}, sideA...)...)
	if err := os.WriteFile(filepath.Join(work, "parts.tsv"), parts, 0o644); err != nil {
		t.Fatal(err)
	}

	// The EMR run.
	args := []string{"--parts", "s3://emr-work/parts.tsv", "--work", "s3://emr-work/run-1/", "--bin", "s3://emr-tools/bin/",
		"--mode", "stream", "--concurrency", "8", "--reducers", "3",
		"--task-env", "AWS_SHARED_CREDENTIALS_FILE=" + os.Getenv("AWS_SHARED_CREDENTIALS_FILE"),
		"--task-env", "AWS_CONFIG_FILE=" + os.Getenv("AWS_CONFIG_FILE"), "--task-env", "AWS_EC2_METADATA_DISABLED=true"}
	args = append(append(append(args, sideA...), sideB...), "s3://"+src, "s3://"+dstEMR)
	data := emrSteps(t, args...)
	for _, secret := range []string{srvA.SecretKey, srvB.SecretKey, srvA.AccessKey, srvB.AccessKey} {
		if secret != "" && bytes.Contains(data, []byte(secret)) {
			t.Fatal("the step JSON holds a credential")
		}
	}
	in, err := ParseSteps(data)
	if err != nil {
		t.Fatal(err)
	}
	if err := in.Validate(); err != nil {
		t.Fatal(err)
	}
	var log bytes.Buffer
	faults := []*Fault{
		{Job: "list-src", Map: true, Task: 1, Attempt: 0, AfterLines: 2},
		{Job: "copy", Map: true, Task: 0, Attempt: 0, AfterLines: 5},
	}
	r := &Runner{
		FS:    map[string]string{"s3://emr-work/": work, "s3://emr-tools/bin/": bin},
		Env:   []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME"), "TMPDIR=" + os.TempDir()},
		Slots: 3, Seed: 1, Faults: faults, Log: &log, Scratch: t.TempDir(),
	}
	start := time.Now()
	results, err := r.RunSteps(context.Background(), in)
	if err != nil {
		t.Fatalf("%v\ntask stderr:\n%s", err, log.String())
	}
	t.Logf("EMR steps under the local runner: %v", time.Since(start).Round(time.Millisecond))
	for _, res := range results {
		killed := 0
		for _, a := range res.Attempts {
			if a.Killed {
				killed++
			}
		}
		t.Logf("%s: %d maps, %d reduces, %d attempts (%d killed), counters %v", res.Job.Name, res.MapTasks, res.ReduceTasks, len(res.Attempts), killed, res.Counters)
	}
	for _, f := range faults {
		if !f.Fired {
			t.Errorf("fault %+v did not fire", *f)
		}
	}

	// The pipe run, into its own destination with the same starting state.
	start = time.Now()
	srcList := tool("s3list", nil, append([]string{"--bucket", src, "-q"}, sideA...)...)
	dstFile := filepath.Join(work, "pipe-dst.tsv")
	if err := os.WriteFile(dstFile, tool("s3list", nil, append([]string{"--bucket", dstPipe, "-q"}, bAsSrc...)...), 0o644); err != nil {
		t.Fatal(err)
	}
	diff := tool("s3diff", bytes.NewReader(srcList), "--dst", dstFile, "-q")
	plan := tool("s3mpplan", bytes.NewReader(diff), append(append([]string{"--dst-bucket", dstPipe, "-q"}, sideA...), sideB...)...)
	results2 := tool("s3copy", bytes.NewReader(plan), append(append([]string{"--mode", "stream", "-q"}, sideA...), sideB...)...)
	pipeReport := tool("s3mpdone", bytes.NewReader(results2), append([]string{"-q"}, sideB...)...)
	t.Logf("pipe run: %v", time.Since(start).Round(time.Millisecond))

	fleettest.SameObjects(t, srcObjects, fleettest.Listing(t, cb, dstEMR))
	fleettest.SameObjects(t, srcObjects, fleettest.Listing(t, cb, dstPipe))
	emrReport := readParts(t, filepath.Join(work, "run-1", "report"))
	rows := fleettest.ReadReport(t, bytes.NewReader(emrReport))
	if want := len(srcObjects) - ds.Same; len(rows) != want {
		t.Errorf("EMR report: %d rows, want %d (source objects not already at the destination)", len(rows), want)
	}
	got, want := normalizeReport(t, emrReport), normalizeReport(t, pipeReport)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("EMR report (%d rows) differs from the pipe report (%d rows)", len(got), len(want))
		for i := 0; i < len(got) && i < len(want); i++ {
			if got[i] != want[i] {
				t.Errorf("first difference:\n EMR %q\npipe %q", got[i], want[i])
				break
			}
		}
	}
	fleettest.NoUploads(t, cb, dstEMR)
	if t.Failed() {
		t.Logf("task stderr:\n%s", log.String())
	}
}
