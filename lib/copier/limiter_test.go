package copier

import (
	"context"
	"math"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// fakeClock is the limiter's clock in tests. Wait still sleeps for real
// when a request's slot is ahead of the clock, so tests advance the clock
// by at least one slot per Wait.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time      { return c.t }
func (c *fakeClock) add(d time.Duration) { c.t = c.t.Add(d) }
func near(got, want float64) bool        { return math.Abs(got-want) <= want*0.02 }
func newFake(maxRPS float64) (*Limiter, *fakeClock) {
	c := &fakeClock{t: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)}
	l := NewLimiter(maxRPS)
	l.now = c.now
	return l, c
}

// waitN makes n requests at rps on the fake clock.
func waitN(t *testing.T, l *Limiter, c *fakeClock, n int, rps float64) {
	t.Helper()
	for range n {
		if err := l.Wait(context.Background()); err != nil {
			t.Fatal(err)
		}
		l.Succeeded()
		c.add(time.Duration(float64(time.Second) / rps))
	}
}

func TestLimiterHalvesAndRecovers(t *testing.T) {
	l, c := newFake(0)
	if l.Rate() != 0 {
		t.Fatalf("new limiter rate %v, want unlimited", l.Rate())
	}
	// Unlimited at 400 requests/s for a bit over a second: measured.
	waitN(t, l, c, 440, 400)
	// A lone SlowDown among many successes is not about the rate: the
	// SDK retries it and the rate stays.
	l.Throttled()
	if l.Rate() != 0 {
		t.Fatalf("after one SlowDown in 440 responses: rate %.1f, want still unlimited", l.Rate())
	}
	// Rate throttling refuses many: once a tenth of the last 64 responses
	// were throttled (7 of them), the rate halves.
	for l.Rate() == 0 && l.Throttles < 100 {
		l.Throttled()
	}
	if !near(l.Rate(), 200) || l.Throttles != 7 {
		t.Fatalf("after %d SlowDowns: rate %.1f, want half the measured 400 at the 7th", l.Throttles, l.Rate())
	}
	// A burst of answers to requests already in flight halves only once.
	for range 10 {
		c.add(10 * time.Millisecond)
		l.Throttled()
	}
	if !near(l.Rate(), 200) || l.Throttles != 17 {
		t.Fatalf("burst within 200ms: rate %.1f throttles %d, want 200 and 17", l.Rate(), l.Throttles)
	}
	c.add(150 * time.Millisecond)
	l.Throttled()
	if !near(l.Rate(), 100) {
		t.Fatalf("second SlowDown 250ms later: rate %.1f, want 100", l.Rate())
	}
	// Recovery: 10% a second once a second has passed without throttling.
	rate := 100.0
	steps := 0
	for l.Rate() != 0 {
		c.add(1100 * time.Millisecond)
		waitN(t, l, c, 1, 1e6)
		steps++
		rate *= 1.1
		if l.Rate() != 0 && !near(l.Rate(), rate) {
			t.Fatalf("recovery step %d: rate %.1f, want %.1f", steps, l.Rate(), rate)
		}
		if steps > 100 {
			t.Fatalf("never returned to unlimited; rate %.1f", l.Rate())
		}
	}
	// Back to unlimited at twice the rate it fell from (400 -> 800):
	// 100 * 1.1^n >= 800 at n = 22.
	if steps != 22 {
		t.Errorf("unlimited again after %d steps, want 22", steps)
	}
}

func TestLimiterCeiling(t *testing.T) {
	l, c := newFake(40)
	if l.Rate() != 40 {
		t.Fatalf("rate %v, want 40", l.Rate())
	}
	waitN(t, l, c, 10, 40)
	l.Throttled()
	if !near(l.Rate(), 20) {
		t.Fatalf("rate %.1f, want 20", l.Rate())
	}
	for range 20 {
		c.add(1100 * time.Millisecond)
		waitN(t, l, c, 1, 40)
	}
	if l.Rate() != 40 {
		t.Errorf("recovered to %.1f, want the --max-rps ceiling 40", l.Rate())
	}
	// Never below one request a second.
	for range 20 {
		c.add(300 * time.Millisecond)
		l.Throttled()
	}
	if l.Rate() != 1 {
		t.Errorf("floor: rate %.2f, want 1", l.Rate())
	}
}

// A throttle right after the start does not drop to the floor: an
// over-estimate is halved again within 200ms, an under-estimate would take
// tens of seconds to recover at 10% a second.
func TestLimiterEarlyThrottle(t *testing.T) {
	l, c := newFake(0)
	waitN(t, l, c, 32, 3200) // 32 workers start within 10ms
	for range 4 {            // a tenth of them refused
		l.Throttled()
	}
	if l.Rate() == 0 || l.Rate() < 100 {
		t.Errorf("rate %.1f after a throttle in the first 10ms; want an over-estimate, not the floor", l.Rate())
	}
}

// TestLimiterPaces: real time, several workers; the ceiling holds.
func TestLimiterPaces(t *testing.T) {
	const rps, n = 200.0, 60
	l := NewLimiter(rps)
	start := time.Now()
	var wg sync.WaitGroup
	for range 6 {
		wg.Go(func() {
			for range n / 6 {
				if err := l.Wait(context.Background()); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	if el, min := time.Since(start), time.Duration(float64(n-1)/rps*float64(time.Second)); el < min {
		t.Errorf("%d requests at --max-rps %v took %v, want >= %v", n, rps, el, min)
	}
	// A cancelled context ends a wait.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	l2 := NewLimiter(0.5)
	l2.Wait(ctx)
	if err := l2.Wait(ctx); err == nil {
		t.Error("Wait on a cancelled context returned nil")
	}
}

// TestLimiterOption: installed on a client, every attempt (SDK retries
// included) waits, and SlowDown answers reach Throttled.
func TestLimiterOption(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) <= 3 {
			w.WriteHeader(http.StatusServiceUnavailable)
			w.Write([]byte(`<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>`))
			return
		}
		w.Header().Set("Content-Length", "0")
	}))
	defer srv.Close()
	l := NewLimiter(0)
	c := s3.New(s3.Options{Region: "us-east-1", BaseEndpoint: aws.String(srv.URL), UsePathStyle: true,
		Credentials: aws.AnonymousCredentials{},
		Retryer: retry.NewStandard(func(o *retry.StandardOptions) {
			o.MaxAttempts = 5
			o.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return time.Millisecond, nil })
		})}, l.Option())
	if _, err := c.HeadObject(context.Background(), &s3.HeadObjectInput{Bucket: aws.String("b"), Key: aws.String("k")}); err != nil {
		t.Fatal(err)
	}
	if calls.Load() != 4 || l.Throttles != 3 {
		t.Errorf("%d calls, %d throttles seen; want 4 and 3", calls.Load(), l.Throttles)
	}
	if l.Rate() == 0 {
		t.Error("still unlimited after SlowDown")
	}
}

// At a low rate a SlowDown among many successes still does not halve it:
// the share is judged over the last responses, not over the last second
// (where a few requests a second made every SlowDown look like rate
// throttling).
func TestLimiterLowRateLoneThrottle(t *testing.T) {
	l, c := newFake(0)
	waitN(t, l, c, 30, 400)
	for range 8 { // rate throttling: brought down to 1/256 of 400
		c.add(250 * time.Millisecond)
		for range 10 {
			l.Throttled()
		}
	}
	low := l.Rate()
	if low == 0 || low > 5 {
		t.Fatalf("rate %.1f after sustained throttling, want a low rate", low)
	}
	// At that low rate, every 20th response a SlowDown: the rate may
	// recover, but no lone SlowDown halves it.
	for i := range 200 {
		c.add(time.Duration(float64(time.Second) / max(l.Rate(), low)))
		l.Wait(context.Background())
		if i%20 != 19 || i < 64 {
			l.Succeeded()
			continue
		}
		before := l.Rate()
		l.Throttled()
		if after := l.Rate(); after != before {
			t.Fatalf("response %d: a lone SlowDown (1 in 20) changed the rate %.2f -> %.2f", i, before, after)
		}
	}
}
