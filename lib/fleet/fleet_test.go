package fleet

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/s3pipe/s3pipe/lib/fleettest"
	"github.com/s3pipe/s3pipe/lib/record"
	"github.com/s3pipe/s3pipe/lib/s3test"
)

func TestMain(m *testing.M) {
	code := s3test.Run(m)
	fleettest.Cleanup()
	os.Exit(code)
}

// hostAddrs are the stand-in hosts: loopback addresses, one sshd each.
var hostAddrs = []string{"127.0.0.2", "127.0.0.3", "127.0.0.4"}

// needTools makes sure GNU parallel, rsync, ssh and sshd are here, installing
// them with scripts/fleet-deps when missing. Without them the test skips,
// unless S3PIPE_REQUIRE_INTEGRATION=1 (CI), where it fails.
func needTools(t *testing.T) {
	t.Helper()
	missing := func() []string {
		var m []string
		for _, p := range []string{"parallel", "rsync", "ssh", "ssh-keygen"} {
			if _, err := exec.LookPath(p); err != nil {
				m = append(m, p)
			}
		}
		if _, err := os.Stat("/usr/sbin/sshd"); err != nil {
			m = append(m, "/usr/sbin/sshd")
		}
		return m
	}
	gate := func(format string, args ...any) {
		t.Helper()
		if os.Getenv("S3PIPE_REQUIRE_INTEGRATION") == "1" {
			t.Fatalf(format, args...)
		}
		t.Skipf(format, args...)
	}
	if m := missing(); len(m) > 0 {
		cmd := exec.Command(filepath.Join(fleettest.RepoRoot(), "scripts", "fleet-deps"))
		out, err := cmd.CombinedOutput()
		if m2 := missing(); len(m2) > 0 {
			gate("fleet test needs %s; scripts/fleet-deps could not install them (%v):\n%s", strings.Join(m2, ", "), err, out)
		}
	}
	// sshd refuses to start without its privilege separation directory.
	if err := os.MkdirAll("/run/sshd", 0o755); err != nil {
		gate("sshd needs /run/sshd: %v", err)
	}
}

// sshHost is one sshd instance standing in for a fleet host.
type sshHost struct {
	addr string
	cmd  *exec.Cmd
	log  *bytes.Buffer
}

// fleetLab is the set of sshd hosts and the ssh command that reaches them.
type fleetLab struct {
	hosts     []*sshHost
	ssh       string // the --ssh command for GNU parallel
	loginFile string
	user      string
}

// freePort finds a TCP port free on every address.
func freePort(t *testing.T, addrs []string) int {
	t.Helper()
	for range 50 {
		l, err := net.Listen("tcp", addrs[0]+":0")
		if err != nil {
			t.Fatalf("listen on %s: %v", addrs[0], err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		ok := true
		ls := []net.Listener{l}
		for _, a := range addrs[1:] {
			l2, err := net.Listen("tcp", net.JoinHostPort(a, strconv.Itoa(port)))
			if err != nil {
				ok = false
				break
			}
			ls = append(ls, l2)
		}
		for _, l := range ls {
			l.Close()
		}
		if ok {
			return port
		}
	}
	t.Fatal("no port free on all host addresses")
	return 0
}

// startLab starts one sshd per address with its own config, a shared host
// key and an authorized_keys holding a fresh user key, all in a temp dir.
// The test's cleanup stops them.
func startLab(t *testing.T, addrs []string, jobsPerHost int) *fleetLab {
	t.Helper()
	// sshd wants short paths without spaces; t.TempDir is fine.
	dir := t.TempDir()
	keygen := func(name string) {
		out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", filepath.Join(dir, name)).CombinedOutput()
		if err != nil {
			t.Fatalf("ssh-keygen: %v\n%s", err, out)
		}
	}
	keygen("hostkey")
	keygen("userkey")
	pub, err := os.ReadFile(filepath.Join(dir, "userkey.pub"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "authorized_keys"), pub, 0o600); err != nil {
		t.Fatal(err)
	}
	u, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	port := freePort(t, addrs)
	lab := &fleetLab{user: u.Username}
	var logins strings.Builder
	for _, addr := range addrs {
		cfg := filepath.Join(dir, "sshd_config."+addr)
		text := fmt.Sprintf(`ListenAddress %s:%d
HostKey %s
AuthorizedKeysFile %s
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
UsePAM no
StrictModes no
PidFile none
MaxStartups 200
MaxSessions 200
LogLevel ERROR
`, addr, port, filepath.Join(dir, "hostkey"), filepath.Join(dir, "authorized_keys"))
		if err := os.WriteFile(cfg, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		h := &sshHost{addr: addr, log: &bytes.Buffer{}}
		h.cmd = exec.Command("/usr/sbin/sshd", "-D", "-e", "-f", cfg)
		h.cmd.Stdout, h.cmd.Stderr = h.log, h.log
		if err := h.cmd.Start(); err != nil {
			t.Fatalf("start sshd on %s: %v", addr, err)
		}
		t.Cleanup(func() {
			killTree(h.cmd.Process.Pid)
			h.cmd.Wait()
			if t.Failed() && h.log.Len() > 0 {
				t.Logf("sshd %s log:\n%s", addr, h.log)
			}
		})
		lab.hosts = append(lab.hosts, h)
		fmt.Fprintf(&logins, "%d/%s@%s\n", jobsPerHost, u.Username, addr)
	}
	for _, h := range lab.hosts {
		waitListen(t, net.JoinHostPort(h.addr, strconv.Itoa(port)))
	}
	lab.ssh = fmt.Sprintf("ssh -p %d -i %s -o IdentitiesOnly=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null "+
		"-o BatchMode=yes -o LogLevel=ERROR -o ConnectTimeout=5 -o ServerAliveInterval=2 -o ServerAliveCountMax=3",
		port, filepath.Join(dir, "userkey"))
	lab.loginFile = filepath.Join(dir, "sshloginfile")
	if err := os.WriteFile(lab.loginFile, []byte(logins.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	// Every host answers.
	for _, h := range lab.hosts {
		args := append(strings.Fields(lab.ssh), u.Username+"@"+h.addr, "echo ok")
		out, err := exec.Command(args[0], args[1:]...).CombinedOutput()
		if err != nil || strings.TrimSpace(string(out)) != "ok" {
			t.Fatalf("ssh to %s: %v\n%s\nsshd log:\n%s", h.addr, err, out, h.log)
		}
	}
	return lab
}

func waitListen(t *testing.T, addr string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("sshd on %s not listening: %v", addr, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// procTree returns pid's descendants (not pid itself) with their command
// names, from /proc.
func procTree(pid int) map[int]string {
	children := map[int][]int{}
	comm := map[int]string{}
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...: comm may hold spaces and parens.
		s := string(b)
		open, closing := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
		if open < 0 || closing < open {
			continue
		}
		rest := strings.Fields(s[closing+1:])
		if len(rest) < 2 {
			continue
		}
		ppid, _ := strconv.Atoi(rest[1])
		children[ppid] = append(children[ppid], p)
		comm[p] = s[open+1 : closing]
	}
	out := map[int]string{}
	queue := []int{pid}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		for _, c := range children[p] {
			if _, seen := out[c]; !seen {
				out[c] = comm[c]
				queue = append(queue, c)
			}
		}
	}
	return out
}

// killTree SIGKILLs pid and every descendant: the host dies with its jobs.
func killTree(pid int) {
	syscall.Kill(pid, syscall.SIGKILL)
	for range 3 { // processes may fork while we kill
		for p := range procTree(pid) {
			syscall.Kill(p, syscall.SIGKILL)
		}
	}
	// Orphans were re-parented; kill what procTree found before the parent died too.
}

// joblogEntry is one line of GNU parallel's --joblog.
type joblogEntry struct {
	seq  int
	host string
	exit int
}

func readJoblog(t *testing.T, path string) []joblogEntry {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("joblog: %v", err)
	}
	var out []joblogEntry
	for i, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		f := strings.Split(line, "\t")
		if i == 0 || len(f) < 9 {
			continue
		}
		seq, err1 := strconv.Atoi(f[0])
		code, err2 := strconv.Atoi(f[6])
		if err1 != nil || err2 != nil {
			t.Fatalf("joblog line %d: %q", i+1, line)
		}
		out = append(out, joblogEntry{seq, f[1], code})
	}
	return out
}

// TestFleetKillHostResume syncs a few thousand objects from server A to
// server B (stream mode: different credentials) over three SSH hosts, kills
// one host with its running jobs mid-run, resumes with --resume-failed and
// checks the destination, the merged report and the multipart uploads.
func TestFleetKillHostResume(t *testing.T) {
	srvA, srvB := s3test.A(t), s3test.B(t)
	needTools(t)
	bin := fleettest.Binaries(t)
	lab := startLab(t, hostAddrs, 2)

	ca, cb := srvA.Client(t), srvB.Client(t)
	src, dst := srvA.Bucket(t, false), srvB.Bucket(t, false)
	ds := fleettest.Dataset{Small: 1600, Multipart: 6, Same: 200, Changed: 40}
	start := time.Now()
	srcObjects := fleettest.Seed(t, ca, src, cb, ds, dst)
	t.Logf("seeded %d source objects in %v", len(srcObjects), time.Since(start).Round(time.Millisecond))

	work := t.TempDir()
	parts := filepath.Join(work, "parts.in")
	sideA := []string{"--src-profile", srvA.Profile, "--src-endpoint-url", srvA.Endpoint, "--src-region", "us-east-1", "--src-path-style", "true"}
	plan := exec.Command(filepath.Join(bin, "s3list"), append([]string{"--bucket", src, "--plan-parts", "12", "-q"}, sideA...)...)
	out, err := plan.Output()
	if err != nil {
		t.Fatalf("s3list --plan-parts: %v\n%s", err, stderrOf(err))
	}
	if err := os.WriteFile(parts, out, 0o644); err != nil {
		t.Fatal(err)
	}
	nParts := strings.Count(string(out), "\n")
	if nParts < 6 {
		t.Fatalf("want at least 6 partitions, s3list planned %d:\n%s", nParts, out)
	}

	remoteDir := ".s3pipe-fleet-test-" + strconv.Itoa(os.Getpid())
	if home, err := os.UserHomeDir(); err == nil {
		t.Cleanup(func() { os.RemoveAll(filepath.Join(home, remoteDir)) })
	}
	fleetWork := filepath.Join(work, "fleet")
	fleet := func(extra ...string) *exec.Cmd {
		args := []string{"--parts", parts, "--sshloginfile", lab.loginFile, "--ssh", lab.ssh, "--work", fleetWork,
			"--bin", bin, "--remote-dir", remoteDir,
			// Credentials reach the hosts as a credentials-file path and
			// profile names, never as keys on a command line.
			"--env", "AWS_SHARED_CREDENTIALS_FILE", "--env", "AWS_CONFIG_FILE", "--env", "AWS_EC2_METADATA_DISABLED",
			"--mode", "stream", "--concurrency", "4"}
		args = append(args, sideA...)
		args = append(args, "--dst-profile", srvB.Profile, "--dst-endpoint-url", srvB.Endpoint, "--dst-region", "us-east-1", "--dst-path-style", "true")
		args = append(args, extra...)
		args = append(args, "s3://"+src, "s3://"+dst)
		return exec.Command(filepath.Join(fleettest.RepoRoot(), "scripts", "s3pipe-fleet"), args...)
	}

	// Run 1: one attempt per partition; host 127.0.0.3 dies mid-run.
	var log1 bytes.Buffer
	run1 := fleet("--retries", "1")
	run1.Stdout, run1.Stderr = &log1, &log1
	start = time.Now()
	if err := run1.Start(); err != nil {
		t.Fatal(err)
	}
	victim := lab.hosts[1]
	killed := ""
	var copySince time.Time
	done := make(chan error, 1)
	go func() { done <- run1.Wait() }()
	var err1 error
wait:
	for {
		select {
		case err1 = <-done:
			break wait
		case <-time.After(20 * time.Millisecond):
		}
		if killed != "" {
			continue
		}
		// Kill once the host has been copying for a while: some of its
		// objects are at the destination, some multipart uploads open.
		copying := false
		for _, name := range procTree(victim.cmd.Process.Pid) {
			copying = copying || name == "s3copy"
		}
		switch {
		case !copying:
			copySince = time.Time{}
		case copySince.IsZero():
			copySince = time.Now()
		case time.Since(copySince) > 300*time.Millisecond:
			killed = "s3copy"
			killTree(victim.cmd.Process.Pid)
			t.Logf("killed host %s (sshd and its children) while it ran s3copy, %v into run 1", victim.addr, time.Since(start).Round(time.Millisecond))
		}
	}
	t.Logf("run 1 took %v:\n%s", time.Since(start).Round(time.Millisecond), log1.String())
	if killed == "" {
		t.Fatalf("host %s never ran a copy, so it could not be killed mid-run", victim.addr)
	}
	var ee *exec.ExitError
	if !errors.As(err1, &ee) || ee.ExitCode() != 3 {
		t.Fatalf("run 1 with a dead host: want exit 3 (partitions not done), got %v", err1)
	}
	victimFailed := 0
	for _, e := range readJoblog(t, filepath.Join(fleetWork, "joblog")) {
		if strings.HasSuffix(e.host, "@"+victim.addr) && e.exit != 0 {
			victimFailed++
		}
	}
	if victimFailed == 0 {
		t.Fatalf("joblog has no failed partition on the killed host %s", victim.addr)
	}

	// Run 2: resume the failed and unrun partitions, with retries. The dead
	// host is still in the login file: its jobs fail and run again elsewhere.
	var log2 bytes.Buffer
	run2 := fleet("--resume-failed", "--retries", "3")
	run2.Stdout, run2.Stderr = &log2, &log2
	start = time.Now()
	err2 := run2.Run()
	t.Logf("run 2 (--resume-failed) took %v:\n%s", time.Since(start).Round(time.Millisecond), log2.String())
	if err2 != nil {
		b, _ := os.ReadFile(filepath.Join(fleetWork, "parallel.log"))
		t.Fatalf("run 2: %v\nparallel.log:\n%s", err2, b)
	}

	// Every partition's last attempt succeeded, some on more than one host.
	last := map[int]joblogEntry{}
	hosts := map[string]bool{}
	for _, e := range readJoblog(t, filepath.Join(fleetWork, "joblog")) {
		last[e.seq] = e
		if e.exit == 0 {
			hosts[e.host] = true
		}
	}
	for seq := 1; seq <= nParts; seq++ {
		if e, ok := last[seq]; !ok || e.exit != 0 {
			t.Errorf("partition %d: last joblog entry %+v, want exit 0", seq, e)
		}
	}
	if len(hosts) < 2 {
		t.Errorf("partitions succeeded on %d host(s), want at least 2: %v", len(hosts), hosts)
	}

	fleettest.SameObjects(t, srcObjects, fleettest.Listing(t, cb, dst))
	f, err := os.Open(filepath.Join(fleetWork, "report.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows := fleettest.ReadReport(t, f)
	status := fleettest.OneRowEach(t, rows, srcObjects)
	t.Logf("report: %d rows %v", len(rows), status)
	if status[record.OutcomeSkipped] < ds.Same {
		t.Errorf("want at least %d skipped rows (objects already at the destination), got %d", ds.Same, status[record.OutcomeSkipped])
	}
	if status[record.OutcomeCopied] == 0 {
		t.Errorf("no copied rows")
	}
	fleettest.NoUploads(t, cb, dst)
	summary, err := os.ReadFile(filepath.Join(fleetWork, "summary.txt"))
	if err != nil || !bytes.Contains(summary, []byte(fmt.Sprintf("partitions: %d of %d done", nParts, nParts))) {
		t.Errorf("summary.txt: %v\n%s", err, summary)
	}
}

func stderrOf(err error) string {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return string(ee.Stderr)
	}
	return ""
}
