package copier

import (
	"context"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go/middleware"
	"github.com/s3pipe/s3pipe/lib/s3err"
)

// Limiter paces requests shared by every worker: at most Max per second when
// Max > 0, and when SlowDown or 503 answers are a tenth of recent responses
// or more it halves the current rate (measured when there was no limit) and
// recovers by 10% a second. A throttled prefix then
// slows the whole run down instead of failing objects after the SDK's
// retries run out.
type Limiter struct {
	mu        sync.Mutex
	max       float64 // configured ceiling; 0 = none
	rate      float64 // current rate; 0 = unlimited
	ceiling   float64 // rate before the last throttle, to return to
	next      time.Time
	throttled time.Time
	raised    time.Time
	winStart  time.Time
	winCount  int
	measured  float64 // requests per second in the last full window
	// The outcomes of the last len(recent) responses (true = throttled),
	// a ring: the throttled share is judged per response, not per second,
	// so it means the same at 1 request a second and at 1,000.
	recent    [64]bool
	recentN   int
	recentPos int
	recentThr int
	now       func() time.Time
	// Throttles counts throttling responses seen.
	Throttles int64
}

// NewLimiter returns a limiter with an optional ceiling (0 = none).
func NewLimiter(maxRPS float64) *Limiter {
	return &Limiter{max: maxRPS, rate: maxRPS, now: time.Now}
}

// Rate is the current rate (0 = unlimited).
func (l *Limiter) Rate() float64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.rate
}

// Wait blocks until the next request may start.
func (l *Limiter) Wait(ctx context.Context) error {
	l.mu.Lock()
	now := l.now()
	if now.Sub(l.winStart) >= time.Second {
		l.measured = float64(l.winCount) / now.Sub(l.winStart).Seconds()
		l.winStart, l.winCount = now, 0
	}
	l.winCount++
	if l.rate > 0 && now.Sub(l.throttled) > time.Second && now.Sub(l.raised) > time.Second && !l.throttled.IsZero() {
		l.raised = now
		l.rate *= 1.1
		switch {
		case l.max > 0 && l.rate >= l.max:
			l.rate = l.max
		case l.max == 0 && l.rate >= 2*l.ceiling:
			l.rate = 0 // back to unlimited
		}
	}
	if l.rate <= 0 {
		l.mu.Unlock()
		return ctx.Err()
	}
	slot := l.next
	if slot.Before(now) {
		slot = now
	}
	l.next = slot.Add(time.Duration(float64(time.Second) / l.rate))
	l.mu.Unlock()
	d := slot.Sub(now)
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// minThrottledShare is the share of recent responses that must have been
// throttled before the rate is halved. S3 throttles by request rate: above
// it, most requests are refused. A few 503s among many successes (a busy
// server node, a random fault) are the SDK retryer's business; halving on
// each of them held a run at a few requests per second.
const minThrottledShare = 0.1

// record notes one response's outcome in the ring of recent ones.
func (l *Limiter) record(throttled bool) {
	if l.recentN == len(l.recent) {
		if l.recent[l.recentPos] {
			l.recentThr--
		}
	} else {
		l.recentN++
	}
	l.recent[l.recentPos] = throttled
	if throttled {
		l.recentThr++
	}
	l.recentPos = (l.recentPos + 1) % len(l.recent)
}

// Succeeded records a response that was not throttled.
func (l *Limiter) Succeeded() {
	l.mu.Lock()
	l.record(false)
	l.mu.Unlock()
}

// Throttled records a SlowDown/503 answer and halves the rate, at most once
// per 200ms so that a burst of answers to requests already in flight does
// not collapse the rate to nothing, and only when at least
// minThrottledShare of the last 64 responses were throttled (always, while
// fewer than 20 responses were seen).
func (l *Limiter) Throttled() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.Throttles++
	l.record(true)
	now := l.now()
	if now.Sub(l.throttled) < 200*time.Millisecond {
		return
	}
	if l.recentN >= 20 && float64(l.recentThr) < minThrottledShare*float64(l.recentN) {
		return
	}
	l.throttled = now
	base := l.rate
	if base <= 0 {
		// Estimate the rate that was too much. A young window over-estimates
		// it (5 requests in 5ms read as 1,000/s); that is the safe side: an
		// over-estimate is halved again every 200ms while SlowDowns last,
		// an under-estimate would only recover at 10% a second.
		base = max(l.measured, float64(l.winCount)/max(now.Sub(l.winStart).Seconds(), 0.001), 2)
		l.ceiling = base
	}
	l.rate = max(base/2, 1)
}

// Option installs the limiter on every attempt of an S3 operation (after the
// SDK's retry step, so retries are paced too).
func (l *Limiter) Option() func(*s3.Options) {
	mw := middleware.FinalizeMiddlewareFunc("s3pipeLimiter", func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
		if err := l.Wait(ctx); err != nil {
			return middleware.FinalizeOutput{}, middleware.Metadata{}, err
		}
		out, md, err := next.HandleFinalize(ctx, in)
		if err != nil && (s3err.Code(err) == "SlowDown" || s3err.HTTPStatus(err) == 503) {
			l.Throttled()
		} else {
			l.Succeeded()
		}
		return out, md, err
	})
	return func(o *s3.Options) {
		o.APIOptions = append(o.APIOptions, func(st *middleware.Stack) error {
			if err := st.Finalize.Insert(mw, "Retry", middleware.After); err != nil {
				return st.Finalize.Add(mw, middleware.After)
			}
			return nil
		})
	}
}
