package faultproxy

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// upstream is a fake S3 server that records what reaches it.
type upstream struct {
	*httptest.Server
	mu   sync.Mutex
	seen []seenRequest
	hits atomic.Int64
}

type seenRequest struct {
	method, requestURI, host string
	header                   http.Header
	body                     []byte
}

const objectSize = 1000

func newUpstream(t *testing.T) *upstream {
	u := &upstream{}
	u.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u.hits.Add(1)
		body, _ := io.ReadAll(r.Body)
		u.mu.Lock()
		u.seen = append(u.seen, seenRequest{r.Method, r.RequestURI, r.Host, r.Header.Clone(), body})
		u.mu.Unlock()
		w.Header().Set("X-Amz-Request-Id", "upstream")
		w.Header().Set("ETag", `"etag"`)
		switch Classify(r) {
		case GetObject:
			w.Header().Set("Content-Type", "application/octet-stream")
			w.Header().Set("Content-Length", fmt.Sprint(objectSize))
			w.Write(bytes.Repeat([]byte("x"), objectSize))
		case HeadObject:
			w.Header().Set("Content-Length", fmt.Sprint(objectSize))
		case ListObjectsV2:
			// No Content-Length: a chunked body.
			w.Header().Set("Content-Type", "application/xml")
			io.WriteString(w, `<ListBucketResult><Name>b</Name><KeyCount>0</KeyCount></ListBucketResult>`)
			w.(http.Flusher).Flush()
		case CompleteMultipartUpload, CopyObject, UploadPartCopy:
			w.Header().Set("Content-Type", "application/xml")
			io.WriteString(w, `<CompleteMultipartUploadResult><ETag>"e-2"</ETag></CompleteMultipartUploadResult>`)
		case PutObject, UploadPart:
			w.Header().Set("Content-Length", "0")
		default:
			w.WriteHeader(http.StatusNotImplemented)
		}
	}))
	t.Cleanup(u.Close)
	return u
}

func (u *upstream) last(t *testing.T) seenRequest {
	t.Helper()
	u.mu.Lock()
	defer u.mu.Unlock()
	if len(u.seen) == 0 {
		t.Fatal("upstream saw no request")
	}
	return u.seen[len(u.seen)-1]
}

func startProxy(t *testing.T, up *upstream, cfg Config) *Proxy {
	t.Helper()
	target, err := url.Parse(up.URL)
	if err != nil {
		t.Fatal(err)
	}
	p := New(target, cfg)
	t.Cleanup(p.Close)
	return p
}

// freshClient never reuses a connection, so net/http's transparent retry of
// idempotent requests on reused connections cannot hide a fault.
func freshClient(timeout time.Duration) *http.Client {
	return &http.Client{Transport: &http.Transport{DisableKeepAlives: true, DisableCompression: true, ResponseHeaderTimeout: timeout}}
}

type call struct {
	method, target, copySource string
	body                       string
}

func (c call) do(t *testing.T, p *Proxy, client *http.Client) (*http.Response, []byte, error, error) {
	t.Helper()
	var body io.Reader
	if c.body != "" {
		body = strings.NewReader(c.body)
	}
	req, err := http.NewRequest(c.method, p.URL()+c.target, body)
	if err != nil {
		t.Fatal(err)
	}
	if c.copySource != "" {
		req.Header.Set("X-Amz-Copy-Source", c.copySource)
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, nil, err, nil
	}
	defer resp.Body.Close()
	b, readErr := io.ReadAll(resp.Body)
	return resp, b, nil, readErr
}

var (
	getObject  = call{method: "GET", target: "/b/k"}
	headObject = call{method: "HEAD", target: "/b/k"}
	putObject  = call{method: "PUT", target: "/b/k", body: strings.Repeat("p", 100_000)}
	listV2     = call{method: "GET", target: "/b?list-type=2"}
	complete   = call{method: "POST", target: "/b/k?uploadId=u1", body: "<CompleteMultipartUpload/>"}
	copyObject = call{method: "PUT", target: "/b/k", copySource: "/src/k"}
	partCopy   = call{method: "PUT", target: "/b/k?partNumber=2&uploadId=u1", copySource: "/src/k"}
)

func isReset(err error) bool {
	// A reset while the client still writes the request body shows on the
	// writing side as a broken pipe or a closed connection.
	return errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) || errors.Is(err, net.ErrClosed) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)
}

// TestFaults injects each fault with rate 1 and checks what a plain HTTP
// client sees, whether the request reached the server, and the counter.
func TestFaults(t *testing.T) {
	tests := []struct {
		name     string
		fault    Fault
		call     call
		cfg      Config
		forward  bool // reached upstream
		injected bool // counted as injected (false: not applicable)
		check    func(t *testing.T, resp *http.Response, body []byte, err, readErr error)
	}{
		{name: "slowdown", fault: SlowDown, call: putObject, check: wantStatus(503, "SlowDown"), injected: true},
		{name: "internal", fault: InternalError, call: getObject, check: wantStatus(500, "InternalError"), injected: true},
		{name: "slowdown-head", fault: SlowDown, call: headObject, check: wantStatus(503, ""), injected: true},
		{name: "reset-before", fault: ResetBeforeResponse, call: getObject, check: wantRequestError, injected: true},
		{name: "reset-before-partial-body", fault: ResetBeforeResponse, call: putObject, cfg: Config{ResetReadBytes: 4096},
			check: wantRequestError, injected: true},
		{name: "reset-after-forward", fault: ResetAfterForward, call: putObject, forward: true, check: wantRequestError, injected: true},
		{name: "reset-mid-body", fault: ResetMidBody, call: getObject, forward: true, injected: true,
			check: func(t *testing.T, resp *http.Response, body []byte, err, readErr error) {
				wantCut(t, resp, body, err, readErr, objectSize/2)
				if !errors.Is(readErr, syscall.ECONNRESET) {
					t.Errorf("read error %v, want connection reset", readErr)
				}
			}},
		{name: "truncated", fault: TruncatedBody, call: getObject, forward: true, injected: true,
			check: func(t *testing.T, resp *http.Response, body []byte, err, readErr error) {
				wantCut(t, resp, body, err, readErr, objectSize/2)
				if !errors.Is(readErr, io.ErrUnexpectedEOF) {
					t.Errorf("read error %v, want unexpected EOF", readErr)
				}
			}},
		{name: "truncated-fraction", fault: TruncatedBody, call: getObject, cfg: Config{BodyFraction: 0.999999}, forward: true, injected: true,
			check: func(t *testing.T, resp *http.Response, body []byte, err, readErr error) {
				wantCut(t, resp, body, err, readErr, objectSize-1)
			}},
		{name: "truncated-chunked-list", fault: TruncatedBody, call: listV2, forward: true, injected: true,
			check: func(t *testing.T, resp *http.Response, body []byte, err, readErr error) {
				if err != nil || resp.ContentLength <= 0 || int64(len(body)) >= resp.ContentLength || readErr == nil {
					t.Errorf("err %v, Content-Length %d, got %d bytes, read error %v: want a cut body", err, resp.ContentLength, len(body), readErr)
				}
			}},
		{name: "truncated-not-for-head", fault: TruncatedBody, call: headObject, forward: true, check: wantStatus(200, "")},
		{name: "truncated-not-for-put", fault: TruncatedBody, call: putObject, forward: true, check: wantStatus(200, "")},
		{name: "slow", fault: SlowResponse, call: getObject, cfg: Config{SlowDelay: 5 * time.Second}, injected: true,
			check: func(t *testing.T, resp *http.Response, body []byte, err, readErr error) {
				var ne net.Error
				if !errors.As(err, &ne) || !ne.Timeout() {
					t.Errorf("error %v, want a timeout", err)
				}
			}},
		{name: "slow-within-timeout", fault: SlowResponse, call: getObject, cfg: Config{SlowDelay: 10 * time.Millisecond}, forward: true,
			injected: true, check: wantStatus(200, "")},
		{name: "200-error-complete", fault: Error200, call: complete, forward: true, check: wantStatus(200, "<Error><Code>InternalError"), injected: true},
		{name: "200-error-copy", fault: Error200, call: copyObject, forward: true, check: wantStatus(200, "<Error><Code>InternalError"), injected: true},
		{name: "200-error-part-copy", fault: Error200, call: partCopy, forward: true, check: wantStatus(200, "<Error><Code>InternalError"), injected: true},
		{name: "200-error-unforwarded-complete", fault: Error200Unforwarded, call: complete, check: wantStatus(200, "<Error><Code>InternalError"), injected: true},
		{name: "200-error-unforwarded-copy", fault: Error200Unforwarded, call: copyObject, check: wantStatus(200, "<Error><Code>InternalError"), injected: true},
		{name: "200-error-not-for-get", fault: Error200, call: getObject, forward: true, check: wantStatus(200, "xxxx")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			up := newUpstream(t)
			cfg := tt.cfg
			cfg.Rates = Rates{tt.fault: 1}
			p := startProxy(t, up, cfg)
			resp, body, err, readErr := tt.call.do(t, p, freshClient(time.Second))
			tt.check(t, resp, body, err, readErr)
			// The proxy's handler may still be running after a reset.
			p.Close()
			if got := up.hits.Load() > 0; got != tt.forward {
				t.Errorf("reached upstream: %v, want %v", got, tt.forward)
			}
			st := p.Stats()
			req := httptest.NewRequest(tt.call.method, tt.call.target, nil)
			if tt.call.copySource != "" {
				req.Header.Set("X-Amz-Copy-Source", tt.call.copySource)
			}
			op := Classify(req)
			want := int64(0)
			if tt.injected {
				want = 1
			}
			if got := st.Faults[tt.fault][op]; got != want {
				t.Errorf("counter %s/%s = %d, want %d\n%s", tt.fault, op, got, want, st)
			}
			if st.Requests[op] != 1 || st.TotalRequests() != 1 {
				t.Errorf("request counters: %v", st.Requests)
			}
		})
	}
}

func wantStatus(code int, bodyHas string) func(*testing.T, *http.Response, []byte, error, error) {
	return func(t *testing.T, resp *http.Response, body []byte, err, readErr error) {
		t.Helper()
		if err != nil || readErr != nil {
			t.Fatalf("request error %v, read error %v", err, readErr)
		}
		if resp.StatusCode != code || !strings.Contains(string(body), bodyHas) {
			t.Errorf("got %d %q, want %d with %q", resp.StatusCode, body, code, bodyHas)
		}
	}
}

func wantRequestError(t *testing.T, resp *http.Response, body []byte, err, readErr error) {
	t.Helper()
	if err == nil || !isReset(err) {
		t.Errorf("request error %v (response %v), want connection reset or EOF", err, resp)
	}
}

func wantCut(t *testing.T, resp *http.Response, body []byte, err, readErr error, sent int) {
	t.Helper()
	if err != nil {
		t.Fatalf("request error %v", err)
	}
	if resp.StatusCode != 200 || resp.ContentLength != objectSize {
		t.Errorf("status %d, Content-Length %d; want 200 with the true length %d", resp.StatusCode, resp.ContentLength, objectSize)
	}
	if len(body) != sent || readErr == nil {
		t.Errorf("read %d bytes, error %v; want %d bytes then an error", len(body), readErr, sent)
	}
}

// TestForwardUnchanged checks that method, request target (with its exact
// escaping), Host, headers and body reach the server as sent, and that the
// response comes back as the server sent it.
func TestForwardUnchanged(t *testing.T) {
	up := newUpstream(t)
	p := startProxy(t, up, Config{})
	hostPort := strings.TrimPrefix(p.URL(), "http://")
	for _, c := range []struct{ method, target, body string }{
		{"GET", "/b/a%2Fb%09c%20d+e%5C%25?x-id=GetObject&response-content-type=a%2Fb", ""},
		{"HEAD", "/b/%E2%82%AC%00", ""},
		{"PUT", "/b/k?partNumber=1&uploadId=a%2Bb", "part body"},
		{"POST", "/b/k?uploads", ""},
		{"DELETE", "/b/k?versionId=v", ""},
	} {
		var body io.Reader
		if c.body != "" {
			body = strings.NewReader(c.body)
		}
		req, _ := http.NewRequest(c.method, p.URL()+"/", body)
		req.URL.Opaque, req.URL.RawQuery, _ = strings.Cut(c.target, "?")
		req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=x, SignedHeaders=host;x-amz-date, Signature=00")
		req.Header.Set("X-Amz-Date", "20260101T000000Z")
		req.Header.Set("X-Amz-Meta-Odd", "v\u00e9")
		resp, err := freshClient(time.Second).Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", c.method, c.target, err)
		}
		resp.Body.Close()
		got := up.last(t)
		if got.method != c.method || got.requestURI != c.target || got.host != hostPort || string(got.body) != c.body {
			t.Errorf("upstream saw %s %s host %s body %q; want %s %s host %s body %q",
				got.method, got.requestURI, got.host, got.body, c.method, c.target, hostPort, c.body)
		}
		for _, h := range []string{"Authorization", "X-Amz-Date", "X-Amz-Meta-Odd"} {
			if got.header.Get(h) != req.Header.Get(h) {
				t.Errorf("%s %s: header %s = %q, want %q", c.method, c.target, h, got.header.Get(h), req.Header.Get(h))
			}
		}
		if got.header.Get("Accept-Encoding") != "" {
			t.Errorf("proxy added Accept-Encoding %q", got.header.Get("Accept-Encoding"))
		}
		if resp.Header.Get("X-Amz-Request-Id") != "upstream" {
			t.Errorf("response headers not passed back: %v", resp.Header)
		}
	}
	if st := p.Stats(); st.TotalFaults() != 0 || st.TotalRequests() != 5 {
		t.Errorf("stats after plain forwarding:\n%s", st)
	}
}

// TestDeterministic: the same seed makes the same decisions for the same
// requests even when they arrive in another order and concurrently; another
// seed makes different ones; the observed rate is near the configured one.
func TestDeterministic(t *testing.T) {
	cfg := Config{Seed: 7, Rates: Rates{SlowDown: 0.2, InternalError: 0.1}}
	const n = 3000
	run := func(cfg Config, reverse bool) map[string]Fault {
		p := &Proxy{cfg: cfg, seen: map[string]uint64{}, faulted: map[string]int{}, stats: newStats()}
		out := map[string]Fault{}
		var mu sync.Mutex
		var wg sync.WaitGroup
		for i := range n {
			if reverse {
				i = n - 1 - i
			}
			key := fmt.Sprintf("GET /b/k%d", i%1000) // three attempts of each
			wg.Go(func() {
				f := p.decide(key, GetObject)
				mu.Lock()
				out[fmt.Sprintf("%s #%d", key, i/1000)] = f
				mu.Unlock()
			})
			if i%100 == 0 {
				wg.Wait() // keep attempts of a key in order across batches
			}
		}
		wg.Wait()
		return out
	}
	a := run(cfg, false)
	counts := map[Fault]int{}
	for _, f := range a {
		counts[f]++
	}
	if got := float64(counts[SlowDown]) / n; got < 0.17 || got > 0.23 {
		t.Errorf("SlowDown rate %.3f, want about 0.2", got)
	}
	if got := float64(counts[InternalError]) / n; got < 0.08 || got > 0.12 {
		t.Errorf("InternalError rate %.3f, want about 0.1", got)
	}
	// Per key, the k-th attempt's decision does not depend on order; check
	// the multiset of decisions per key.
	perKey := func(m map[string]Fault) map[string]string {
		out := map[string]string{}
		for k, f := range m {
			key, _, _ := strings.Cut(k, " #")
			out[key] += string(f) + ","
		}
		for k, v := range out {
			parts := strings.Split(v, ",")
			slices.Sort(parts)
			out[k] = strings.Join(parts, ",")
		}
		return out
	}
	pa, pb := perKey(a), perKey(run(cfg, true))
	for k := range pa {
		if pa[k] != pb[k] {
			t.Fatalf("key %s: %s in order, %s reversed", k, pa[k], pb[k])
		}
	}
	other := cfg
	other.Seed = 8
	pc := perKey(run(other, false))
	same := 0
	for k := range pa {
		if pa[k] == pc[k] {
			same++
		}
	}
	if same == len(pa) {
		t.Error("seeds 7 and 8 made identical decisions")
	}
}

func TestMaxFaultsPerRequest(t *testing.T) {
	up := newUpstream(t)
	p := startProxy(t, up, Config{Rates: Rates{SlowDown: 1}, MaxFaultsPerRequest: 2})
	var codes []int
	for range 4 {
		resp, _, err, _ := getObject.do(t, p, freshClient(time.Second))
		if err != nil {
			t.Fatal(err)
		}
		codes = append(codes, resp.StatusCode)
	}
	if fmt.Sprint(codes) != "[503 503 200 200]" {
		t.Errorf("statuses %v, want [503 503 200 200]", codes)
	}
	// Another request has its own allowance.
	if resp, _, err, _ := headObject.do(t, p, freshClient(time.Second)); err != nil || resp.StatusCode != 503 {
		t.Errorf("first HEAD: %v %v, want 503", resp, err)
	}
}

func TestPerOpRates(t *testing.T) {
	up := newUpstream(t)
	p := startProxy(t, up, Config{Rates: Rates{InternalError: 1}, Ops: map[Op]Rates{GetObject: {SlowDown: 1}, PutObject: {}}})
	for _, c := range []struct {
		call call
		want int
	}{{getObject, 503}, {putObject, 200}, {headObject, 500}} {
		resp, _, err, _ := c.call.do(t, p, freshClient(time.Second))
		if err != nil || resp.StatusCode != c.want {
			t.Errorf("%s %s: %v %v, want %d", c.call.method, c.call.target, resp.Status, err, c.want)
		}
	}
}

// TestThrottle drives the proxy as fast as four clients can for a while and
// checks that the admitted rate settles at the threshold.
func TestThrottle(t *testing.T) {
	for _, perOp := range []bool{false, true} {
		t.Run(fmt.Sprintf("perOp=%v", perOp), func(t *testing.T) {
			up := newUpstream(t)
			const rate = 40.0
			p := startProxy(t, up, Config{Throttle: Throttle{Rate: rate, Burst: 2, PerOp: perOp}})
			client := &http.Client{}
			ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
			defer cancel()
			var wg sync.WaitGroup
			var ok, slow atomic.Int64
			for w := range 4 {
				c := getObject
				if w%2 == 1 {
					c = headObject
				}
				wg.Go(func() {
					for ctx.Err() == nil {
						req, _ := http.NewRequestWithContext(ctx, c.method, p.URL()+c.target, nil)
						resp, err := client.Do(req)
						if err != nil {
							continue
						}
						io.Copy(io.Discard, resp.Body)
						resp.Body.Close()
						switch resp.StatusCode {
						case 200:
							ok.Add(1)
						case 503:
							slow.Add(1)
						}
						time.Sleep(time.Millisecond)
					}
				})
			}
			wg.Wait()
			st := p.Stats().Throttle
			t.Logf("throttle %.0f/s per-op=%v: %+v; client saw %d ok, %d SlowDown\n%s", rate, perOp, st, ok.Load(), slow.Load(), p.Stats())
			want := rate
			if perOp {
				want = 2 * rate // two operations, a bucket each
			}
			if st.Rate < 0.6*want || st.Rate > 1.2*want { // below: clients starved of CPU; above: a leaking bucket
				t.Errorf("achieved %.1f req/s, want about %.0f", st.Rate, want)
			}
			if st.Throttled == 0 || ok.Load() > st.Admitted || slow.Load() > st.Throttled {
				t.Errorf("counters do not match what clients saw: %+v, ok %d, slowdown %d", st, ok.Load(), slow.Load())
			}
		})
	}
}

// TestCloseEndsWaits: a slow response does not hold Close up.
func TestCloseEndsWaits(t *testing.T) {
	up := newUpstream(t)
	p := startProxy(t, up, Config{Rates: Rates{SlowResponse: 1}, SlowDelay: time.Hour})
	done := make(chan error, 1)
	go func() {
		_, _, err, _ := getObject.do(t, p, freshClient(0))
		done <- err
	}()
	for p.Stats().Injected(SlowResponse) == 0 {
		time.Sleep(5 * time.Millisecond)
	}
	start := time.Now()
	p.Close()
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Close took %v", d)
	}
	if err := <-done; err == nil {
		t.Error("request through a closed proxy succeeded")
	}
}

func TestValidate(t *testing.T) {
	for _, c := range []Config{
		{Rates: Rates{SlowDown: 1.5}},
		{Rates: Rates{SlowDown: -0.1}},
		{Rates: Rates{SlowDown: 0.6, InternalError: 0.6}},
		{Rates: Rates{"Nope": 0.1}},
		{Rates: Rates{Throttled: 0.1}},
		{Ops: map[Op]Rates{GetObject: {SlowDown: 2}}},
		{BodyFraction: 1},
		{SlowDelay: -1},
		{Throttle: Throttle{Rate: -1}},
	} {
		if err := c.Validate(); err == nil {
			t.Errorf("Validate(%+v) = nil, want an error", c)
		}
	}
	if err := (Config{Rates: Rates{SlowDown: 0.5, InternalError: 0.5}}).Validate(); err != nil {
		t.Errorf("valid config: %v", err)
	}
}

func TestUpstreamDown(t *testing.T) {
	up := newUpstream(t)
	p := startProxy(t, up, Config{})
	up.Close()
	resp, body, err, _ := getObject.do(t, p, freshClient(time.Second))
	if err != nil || resp.StatusCode != http.StatusBadGateway || !bytes.Contains(body, []byte("<Code>BadGateway")) {
		t.Errorf("got %v %q %v, want 502 BadGateway", resp, body, err)
	}
	if p.Stats().UpstreamErrors != 1 {
		t.Errorf("upstream errors %d, want 1", p.Stats().UpstreamErrors)
	}
}

func BenchmarkForward(b *testing.B) {
	up := &upstream{}
	up.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "4096")
		w.Write(make([]byte, 4096))
	}))
	defer up.Close()
	target, _ := url.Parse(up.URL)
	p := New(target, Config{Rates: Rates{SlowDown: 0.01}})
	defer p.Close()
	client := &http.Client{}
	b.ResetTimer()
	for b.Loop() {
		resp, err := client.Get(p.URL() + "/b/k")
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
}
