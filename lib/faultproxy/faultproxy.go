// Package faultproxy owns the fault-injecting S3 proxy that reliability
// tests put between the tools and a local S3 server (MinIO) on loopback.
//
// The proxy forwards every request byte for byte, keeping the Host header
// the client signed (SigV4 covers the Host; the server verifies it against
// the Host it receives), and by seeded probabilities per fault type and per
// S3 operation it answers instead with what real S3 does on a bad day:
// 503 SlowDown, 500 InternalError, connection resets before the response
// or in the middle of its body, bodies cut short under a correct
// Content-Length, responses slower than the client's timeout, and the
// "200 OK with <Error> in the body" that CopyObject, UploadPartCopy and
// CompleteMultipartUpload can return. A throttle mode answers SlowDown
// above a request rate. Counters of injected faults by type and operation
// feed the test reports.
//
// Decisions are deterministic for a seed: each one is a hash of the seed,
// the request's identity (method, key, query without upload ids, copy
// source without bucket names) and how many times that identity was seen
// before, so retries of one request draw fresh numbers and the
// interleaving of concurrent requests does not change which attempt of
// which request fails.
package faultproxy

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"html"
	"io"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"
)

// Fault is one kind of injected failure.
type Fault string

// Faults, in the order a request's random number is matched against their
// rates.
const (
	// SlowDown answers 503 with an S3 SlowDown XML error; the request is not
	// forwarded.
	SlowDown Fault = "SlowDown"
	// InternalError answers 500 with an S3 InternalError XML error; the
	// request is not forwarded.
	InternalError Fault = "InternalError"
	// ResetBeforeResponse resets the connection without forwarding, after
	// reading Config.ResetReadBytes of the request body.
	ResetBeforeResponse Fault = "ResetBeforeResponse"
	// ResetAfterForward forwards the request (the server carries it out),
	// then resets the connection instead of answering: the client cannot
	// know whether its request took effect.
	ResetAfterForward Fault = "ResetAfterForward"
	// ResetMidBody forwards, sends the status, the headers and part of the
	// body, then resets the connection (TCP RST). Only for responses with a
	// body.
	ResetMidBody Fault = "ResetMidBody"
	// TruncatedBody forwards, sends the headers with the true
	// Content-Length but only part of the body, then closes the connection
	// cleanly (FIN). Only for responses with a body.
	TruncatedBody Fault = "TruncatedBody"
	// SlowResponse waits Config.SlowDelay before forwarding; a client whose
	// response-header timeout is shorter gives up first.
	SlowResponse Fault = "SlowResponse"
	// Error200 forwards a CopyObject, UploadPartCopy or
	// CompleteMultipartUpload (so the server does the work) and, when the
	// server answered 200, replaces the body with an InternalError <Error>.
	Error200 Fault = "Error200"
	// Error200Unforwarded answers 200 with an InternalError <Error> body
	// without forwarding: the work was not done.
	Error200Unforwarded Fault = "Error200Unforwarded"
	// Throttled counts the 503 SlowDown answers of the throttle mode; it is
	// not a rate in Rates.
	Throttled Fault = "Throttled"
)

// Faults lists every fault that Rates can name, in matching order.
var Faults = []Fault{SlowDown, InternalError, ResetBeforeResponse, ResetAfterForward, ResetMidBody,
	TruncatedBody, SlowResponse, Error200, Error200Unforwarded}

// Rates are probabilities (0..1) of each fault per request. Their sum must
// not exceed 1. A fault that cannot apply to an operation (a body fault on
// HeadObject, Error200 on GetObject) is left out for it, so that
// operation sees a lower total rate.
type Rates map[Fault]float64

// Throttle configures the throttle mode.
type Throttle struct {
	// Rate is the admitted request rate (requests per second); 0 turns the
	// throttle off.
	Rate float64
	// Burst is the token bucket's depth; 0 means a tenth of a second's
	// worth (at least 1).
	Burst int
	// PerOp gives every operation its own bucket instead of one shared by
	// all requests.
	PerOp bool
}

// Config says what to inject. The zero Config forwards everything.
type Config struct {
	// Seed makes the decisions reproducible.
	Seed uint64
	// Rates apply to every operation that has no entry in Ops.
	Rates Rates
	// Ops overrides Rates per operation (an empty Rates turns faults off
	// for that operation).
	Ops map[Op]Rates
	// MaxFaultsPerRequest, when positive, lets the same request (same
	// identity, retried) fail at most this many times; later attempts pass.
	// With rate 1 it makes "fail twice, then succeed" exact.
	MaxFaultsPerRequest int
	// ResetReadBytes is how much of a request body ResetBeforeResponse
	// reads before resetting (0: none).
	ResetReadBytes int64
	// BodyFraction is the part of a response body that ResetMidBody and
	// TruncatedBody send before cutting (default 0.5); at least one byte
	// is always withheld.
	BodyFraction float64
	// SlowDelay is how long SlowResponse waits (default 30s). The wait ends
	// early when the client goes away or the proxy closes.
	SlowDelay time.Duration
	// Throttle answers SlowDown above a request rate, before any fault.
	Throttle Throttle
}

// Validate checks the probabilities and durations.
func (c Config) Validate() error {
	check := func(where string, r Rates) error {
		sum := 0.0
		for f, p := range r {
			if !slices.Contains(Faults, f) {
				return fmt.Errorf("%s: unknown fault %q", where, f)
			}
			if p < 0 || p > 1 {
				return fmt.Errorf("%s: rate of %s is %g, want 0..1", where, f, p)
			}
			sum += p
		}
		if sum > 1+1e-9 {
			return fmt.Errorf("%s: rates add up to %g, want at most 1", where, sum)
		}
		return nil
	}
	if err := check("rates", c.Rates); err != nil {
		return err
	}
	for op, r := range c.Ops {
		if err := check("rates of "+string(op), r); err != nil {
			return err
		}
	}
	if c.BodyFraction < 0 || c.BodyFraction >= 1 {
		return fmt.Errorf("body fraction %g, want 0 (default) or in (0,1)", c.BodyFraction)
	}
	if c.SlowDelay < 0 || c.ResetReadBytes < 0 || c.MaxFaultsPerRequest < 0 {
		return errors.New("negative slow delay, reset read bytes or max faults per request")
	}
	if c.Throttle.Rate < 0 || c.Throttle.Burst < 0 {
		return errors.New("negative throttle rate or burst")
	}
	return nil
}

// Proxy is a running fault-injecting proxy on a loopback port.
type Proxy struct {
	cfg       Config
	target    *url.URL
	srv       *httptest.Server
	transport *http.Transport
	ctx       context.Context
	cancel    context.CancelFunc

	mu      sync.Mutex
	seen    map[string]uint64 // request identity → attempts so far
	faulted map[string]int    // request identity → faults injected
	stats   Stats
	buckets map[Op]*bucket // throttle; key "" when shared
	first   time.Time      // first throttled-or-admitted request
	last    time.Time
	reqID   uint64
}

// New starts a proxy in front of target (scheme://host:port of the S3
// server). It panics on an invalid Config, like regexp.MustCompile: configs
// are written in tests, and Validate is there to check one first.
func New(target *url.URL, cfg Config) *Proxy {
	if err := cfg.Validate(); err != nil {
		panic("faultproxy: " + err.Error())
	}
	if cfg.BodyFraction == 0 {
		cfg.BodyFraction = 0.5
	}
	if cfg.SlowDelay == 0 {
		cfg.SlowDelay = 30 * time.Second
	}
	ctx, cancel := context.WithCancel(context.Background())
	p := &Proxy{
		cfg:    cfg,
		target: target,
		transport: &http.Transport{
			// Never re-encode: objects stored with Content-Encoding: gzip
			// must pass byte for byte.
			DisableCompression:  true,
			MaxIdleConnsPerHost: 128,
			IdleConnTimeout:     30 * time.Second,
			DialContext:         (&net.Dialer{Timeout: 10 * time.Second}).DialContext,
		},
		ctx:     ctx,
		cancel:  cancel,
		seen:    map[string]uint64{},
		faulted: map[string]int{},
		stats:   newStats(),
		buckets: map[Op]*bucket{},
	}
	p.srv = httptest.NewServer(p)
	return p
}

// URL is the proxy's base URL, to use as the tools' endpoint URL.
func (p *Proxy) URL() string { return p.srv.URL }

// Close stops the proxy: pending waits end, client connections are closed
// and Close returns when every handler has returned.
func (p *Proxy) Close() {
	p.cancel()
	p.srv.CloseClientConnections()
	p.srv.Close()
	p.transport.CloseIdleConnections()
}

// Stats returns a snapshot of the counters.
func (p *Proxy) Stats() Stats {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := p.stats.clone()
	if !p.first.IsZero() {
		s.Throttle.Elapsed = p.last.Sub(p.first)
		if secs := s.Throttle.Elapsed.Seconds(); secs > 0 {
			s.Throttle.Rate = float64(s.Throttle.Admitted) / secs
		}
	}
	return s
}

// ServeHTTP handles one request: throttle, decide, then forward and/or
// inject.
func (p *Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// Handlers end when the client goes away or the proxy closes.
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	defer context.AfterFunc(p.ctx, cancel)()
	r = r.WithContext(ctx)

	op := Classify(r)
	id := p.count(op)
	if !p.admit(op) {
		p.record("", op, Throttled)
		writeError(w, r, http.StatusServiceUnavailable, "SlowDown", "Please reduce your request rate.", id)
		return
	}
	key := identity(r)
	fault := p.decide(key, op)
	switch fault {
	case SlowDown:
		p.record(key, op, fault)
		drain(r)
		writeError(w, r, http.StatusServiceUnavailable, "SlowDown", "Please reduce your request rate.", id)
		return
	case InternalError:
		p.record(key, op, fault)
		drain(r)
		writeError(w, r, http.StatusInternalServerError, "InternalError", "We encountered an internal error. Please try again.", id)
		return
	case ResetBeforeResponse:
		p.record(key, op, fault)
		if p.cfg.ResetReadBytes > 0 {
			io.CopyN(io.Discard, r.Body, p.cfg.ResetReadBytes)
		}
		reset(w, true)
		return
	case Error200Unforwarded:
		p.record(key, op, fault)
		drain(r)
		write200Error(w, r, id, true)
		return
	case SlowResponse:
		p.record(key, op, fault)
		t := time.NewTimer(p.cfg.SlowDelay)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
			// Returning would send an empty 200.
			reset(w, true)
			return
		}
	}

	resp, err := p.forward(ctx, r)
	if err != nil {
		if ctx.Err() != nil {
			reset(w, true) // client gone or proxy closing
			return
		}
		p.mu.Lock()
		p.stats.UpstreamErrors++
		p.stats.LastUpstreamError = err.Error()
		p.mu.Unlock()
		writeError(w, r, http.StatusBadGateway, "BadGateway", "faultproxy: "+err.Error(), id)
		return
	}
	defer resp.Body.Close()

	switch fault {
	case ResetAfterForward:
		p.record(key, op, fault)
		io.Copy(io.Discard, resp.Body)
		reset(w, true)
		return
	case Error200:
		if resp.StatusCode == http.StatusOK {
			p.record(key, op, fault)
			io.Copy(io.Discard, resp.Body)
			copyHeader(w.Header(), resp.Header)
			write200Error(w, r, id, false)
			return
		}
	case ResetMidBody, TruncatedBody:
		if body, size, ok := cuttable(r, resp); ok {
			// Count first: after the cut the client may look at the
			// counters before this handler returns.
			p.record(key, op, fault)
			p.cut(w, resp, body, size, fault == ResetMidBody)
			return
		}
	}
	copyHeader(w.Header(), resp.Header)
	if _, ok := resp.Header["Content-Type"]; !ok {
		// Keep net/http from sniffing a type the server did not send.
		w.Header()["Content-Type"] = nil
	}
	w.WriteHeader(resp.StatusCode)
	io.Copy(w, resp.Body)
}

// count bumps the request counter of op and returns a request id for error
// bodies.
func (p *Proxy) count(op Op) uint64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.stats.Requests[op]++
	p.reqID++
	return p.reqID
}

// admit runs the throttle's token bucket.
func (p *Proxy) admit(op Op) bool {
	t := p.cfg.Throttle
	if t.Rate <= 0 {
		return true
	}
	burst := float64(t.Burst)
	if burst == 0 {
		burst = max(1, t.Rate/10)
	}
	if !t.PerOp {
		op = ""
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	// Read the clock under the lock: a time taken before it could be
	// older than the bucket's last refill and drain tokens.
	now := time.Now()
	if p.first.IsZero() {
		p.first = now
	}
	p.last = now
	b := p.buckets[op]
	if b == nil {
		b = &bucket{tokens: burst, last: now}
		p.buckets[op] = b
	}
	ok := b.take(now, t.Rate, burst)
	if ok {
		p.stats.Throttle.Admitted++
	} else {
		p.stats.Throttle.Throttled++
	}
	return ok
}

// bucket is a token bucket.
type bucket struct {
	tokens float64
	last   time.Time
}

func (b *bucket) take(now time.Time, rate, burst float64) bool {
	if now.After(b.last) {
		b.tokens = min(burst, b.tokens+now.Sub(b.last).Seconds()*rate)
		b.last = now
	}
	if b.tokens >= 1 {
		b.tokens--
		return true
	}
	return false
}

// decide draws the fault for this attempt of the request, or "" for none.
func (p *Proxy) decide(key string, op Op) Fault {
	rates, ok := p.cfg.Ops[op]
	if !ok {
		rates = p.cfg.Rates
	}
	if len(rates) == 0 {
		return ""
	}
	p.mu.Lock()
	n := p.seen[key]
	p.seen[key] = n + 1
	capped := p.cfg.MaxFaultsPerRequest > 0 && p.faulted[key] >= p.cfg.MaxFaultsPerRequest
	p.mu.Unlock()
	if capped {
		return ""
	}
	u := uniform(p.cfg.Seed, key, n)
	cum := 0.0
	for _, f := range Faults {
		if !applies(f, op) {
			continue
		}
		cum += rates[f]
		if u < cum {
			return f
		}
	}
	return ""
}

// applies reports whether fault f can happen to operation op.
func applies(f Fault, op Op) bool {
	switch f {
	case ResetMidBody, TruncatedBody:
		return hasBody(op)
	case Error200, Error200Unforwarded:
		return copyLike(op)
	}
	return true
}

// record counts one injected fault.
func (p *Proxy) record(key string, op Op, f Fault) {
	p.mu.Lock()
	defer p.mu.Unlock()
	m := p.stats.Faults[f]
	if m == nil {
		m = map[Op]int64{}
		p.stats.Faults[f] = m
	}
	m[op]++
	if key != "" {
		p.faulted[key]++
	}
}

// identity names a request across its retries: method, raw path, the query
// and the copy source, without per-run values: bucket names (tests make
// random ones), upload ids and presigned-URL parameters. The same seed then
// fails the same requests in every run of a test.
func identity(r *http.Request) string {
	path, _, _ := strings.Cut(r.RequestURI, "?")
	q := query(r)
	delete(q, "uploadId")
	var b strings.Builder
	b.WriteString(r.Method)
	b.WriteByte(' ')
	b.WriteString(dropBucket(path))
	b.WriteByte('?')
	b.WriteString(q.Encode()) // sorted by key
	b.WriteByte(' ')
	b.WriteString(dropBucket(r.Header.Get("X-Amz-Copy-Source")))
	b.WriteByte(' ')
	b.WriteString(r.Header.Get("X-Amz-Copy-Source-Range"))
	return b.String()
}

// dropBucket removes the first segment of a path-style path or copy source
// ("/bucket/key" and "bucket/key" become "/key").
func dropBucket(p string) string {
	p = strings.TrimPrefix(p, "/")
	if i := strings.IndexByte(p, '/'); i >= 0 {
		return p[i:]
	}
	return "/"
}

// uniform maps (seed, key, n) to [0,1).
func uniform(seed uint64, key string, n uint64) float64 {
	h := fnv.New64a()
	var buf [8]byte
	binary.LittleEndian.PutUint64(buf[:], seed)
	h.Write(buf[:])
	h.Write([]byte(key))
	binary.LittleEndian.PutUint64(buf[:], n)
	h.Write(buf[:])
	// splitmix64's finaliser spreads FNV's weak low bits.
	z := h.Sum64()
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	z ^= z >> 31
	return float64(z>>11) / (1 << 53)
}

// hopHeaders are connection-level headers a proxy must not forward (RFC
// 9110 section 7.6.1). None of them is part of a SigV4 signature.
var hopHeaders = []string{"Connection", "Proxy-Connection", "Keep-Alive", "Proxy-Authenticate",
	"Proxy-Authorization", "Te", "Trailer", "Transfer-Encoding", "Upgrade"}

// forward sends r to the target unchanged: same method, the request-target
// exactly as the client escaped it, same headers and the same Host header
// (the client signed the proxy's host:port; the server checks the signature
// against the Host it receives).
func (p *Proxy) forward(ctx context.Context, r *http.Request) (*http.Response, error) {
	path, rawQuery, _ := strings.Cut(r.RequestURI, "?")
	u := &url.URL{Scheme: p.target.Scheme, Host: p.target.Host, Opaque: path, RawQuery: rawQuery}
	body := r.Body
	if r.ContentLength == 0 {
		body = http.NoBody
	}
	out, err := http.NewRequestWithContext(ctx, r.Method, p.target.String(), body)
	if err != nil {
		return nil, fmt.Errorf("build upstream request: %w", err)
	}
	// An opaque path goes on the request line exactly as the client
	// escaped it.
	out.URL = u
	out.Host = r.Host
	out.ContentLength = r.ContentLength
	out.Header = r.Header.Clone()
	for _, h := range hopHeaders {
		out.Header.Del(h)
	}
	if len(r.Trailer) > 0 {
		// The server fills r.Trailer once the body is read, before the
		// transport writes out.Trailer.
		out.Trailer = r.Trailer
	}
	resp, err := p.transport.RoundTrip(out)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", r.Method, r.RequestURI, err)
	}
	return resp, nil
}

// cuttable returns the body of resp and its length when there is a body to
// cut.
func cuttable(r *http.Request, resp *http.Response) (io.Reader, int64, bool) {
	if r.Method == http.MethodHead {
		return nil, 0, false
	}
	if size := resp.ContentLength; size >= 0 {
		return resp.Body, size, size > 0
	}
	// Chunked: buffer it (S3 sends chunked only for small XML bodies) so
	// the cut can carry a correct Content-Length.
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, 0, false
	}
	return bytes.NewReader(b), int64(len(b)), len(b) > 0
}

// cut sends the headers with the true Content-Length and part of the body,
// then breaks the connection: with a TCP reset (rst) or a clean close.
func (p *Proxy) cut(w http.ResponseWriter, resp *http.Response, body io.Reader, size int64, rst bool) {
	n := min(int64(float64(size)*p.cfg.BodyFraction), size-1)
	copyHeader(w.Header(), resp.Header)
	w.Header().Set("Content-Length", fmt.Sprint(size))
	w.WriteHeader(resp.StatusCode)
	io.CopyN(w, body, n)
	http.NewResponseController(w).Flush()
	reset(w, rst)
}

// reset takes the connection from net/http and closes it: with a TCP RST
// when rst (SO_LINGER 0), else with a FIN.
func reset(w http.ResponseWriter, rst bool) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		// Not hijackable (HTTP/2): abort the stream instead.
		panic(http.ErrAbortHandler)
	}
	if tc, ok := conn.(*net.TCPConn); ok && rst {
		tc.SetLinger(0)
	}
	conn.Close()
}

// drain reads (a bounded amount of) the request body so a keep-alive
// connection stays usable after an early answer.
func drain(r *http.Request) {
	io.Copy(io.Discard, io.LimitReader(r.Body, 1<<20))
}

func copyHeader(dst, src http.Header) {
	for k, v := range src {
		if slices.Contains(hopHeaders, http.CanonicalHeaderKey(k)) {
			continue
		}
		dst[k] = slices.Clone(v)
	}
}

// errorXML is S3's error document.
func errorXML(r *http.Request, code, msg string, id uint64) string {
	path, _, _ := strings.Cut(r.RequestURI, "?")
	return fmt.Sprintf(`<?xml version="1.0" encoding="UTF-8"?>`+"\n"+
		`<Error><Code>%s</Code><Message>%s</Message><Resource>%s</Resource><RequestId>faultproxy-%d</RequestId></Error>`,
		html.EscapeString(code), html.EscapeString(msg), html.EscapeString(path), id)
}

// writeError answers like S3 does with an error status.
func writeError(w http.ResponseWriter, r *http.Request, status int, code, msg string, id uint64) {
	body := errorXML(r, code, msg, id)
	h := w.Header()
	h.Set("Content-Type", "application/xml")
	h.Set("Content-Length", fmt.Sprint(len(body)))
	h.Set("X-Amz-Request-Id", fmt.Sprintf("faultproxy-%d", id))
	w.WriteHeader(status)
	io.WriteString(w, body)
}

// write200Error answers 200 OK with an InternalError document in the body.
// Unforwarded, it streams like S3 during a long copy: status first, then the
// XML declaration, then the error; forwarded, the server's headers are kept
// and the body is replaced.
func write200Error(w http.ResponseWriter, r *http.Request, id uint64, streamed bool) {
	body := errorXML(r, "InternalError", "We encountered an internal error. Please try again.", id)
	h := w.Header()
	h.Set("Content-Type", "application/xml")
	h.Del("ETag")
	if streamed {
		h.Del("Content-Length")
		w.WriteHeader(http.StatusOK)
		decl, rest, _ := strings.Cut(body, "\n")
		io.WriteString(w, decl+"\n")
		http.NewResponseController(w).Flush()
		io.WriteString(w, "\n"+rest)
		return
	}
	h.Set("Content-Length", fmt.Sprint(len(body)))
	w.WriteHeader(http.StatusOK)
	io.WriteString(w, body)
}

// Stats are the proxy's counters.
type Stats struct {
	// Requests counts every request received, by operation.
	Requests map[Op]int64
	// Faults counts injected faults by type and operation; Throttled
	// counts the throttle's SlowDown answers.
	Faults map[Fault]map[Op]int64
	// UpstreamErrors counts requests the server could not be reached for
	// (or whose request body broke while being forwarded).
	UpstreamErrors    int64
	LastUpstreamError string
	Throttle          ThrottleStats
}

// ThrottleStats describe the throttle mode's effect.
type ThrottleStats struct {
	Admitted, Throttled int64
	// Elapsed runs from the first to the last request the throttle saw.
	Elapsed time.Duration
	// Rate is Admitted / Elapsed: the achieved request rate.
	Rate float64
}

func newStats() Stats {
	return Stats{Requests: map[Op]int64{}, Faults: map[Fault]map[Op]int64{}}
}

func (s Stats) clone() Stats {
	c := s
	c.Requests = maps.Clone(s.Requests)
	c.Faults = make(map[Fault]map[Op]int64, len(s.Faults))
	for f, m := range s.Faults {
		c.Faults[f] = maps.Clone(m)
	}
	return c
}

// Injected is the number of faults of type f over all operations.
func (s Stats) Injected(f Fault) int64 {
	var n int64
	for _, v := range s.Faults[f] {
		n += v
	}
	return n
}

// TotalFaults is the number of injected faults of every type, throttling
// included.
func (s Stats) TotalFaults() int64 {
	var n int64
	for f := range s.Faults {
		n += s.Injected(f)
	}
	return n
}

// TotalRequests is the number of requests received.
func (s Stats) TotalRequests() int64 {
	var n int64
	for _, v := range s.Requests {
		n += v
	}
	return n
}

// String formats the counters as lines for test logs:
// "requests <op> <n>", "fault <fault> <op> <n>", "throttle ...".
func (s Stats) String() string {
	var lines []string
	for op, n := range s.Requests {
		lines = append(lines, fmt.Sprintf("requests %s %d", op, n))
	}
	for f, m := range s.Faults {
		for op, n := range m {
			lines = append(lines, fmt.Sprintf("fault %s %s %d", f, op, n))
		}
	}
	sort.Strings(lines)
	if s.UpstreamErrors > 0 {
		lines = append(lines, fmt.Sprintf("upstream-errors %d (last: %s)", s.UpstreamErrors, s.LastUpstreamError))
	}
	if s.Throttle.Admitted+s.Throttle.Throttled > 0 {
		lines = append(lines, fmt.Sprintf("throttle admitted %d throttled %d in %v = %.1f req/s",
			s.Throttle.Admitted, s.Throttle.Throttled, s.Throttle.Elapsed.Round(time.Millisecond), s.Throttle.Rate))
	}
	return strings.Join(lines, "\n")
}
