// Package iso8583test is an ISO 8583 issuer simulator on 127.0.0.1 for
// testing the biometric/iso8583 Authorizer end to end over real TCP. It
// answers 0100, 0400 and 0800 from a biometric.Issuer with the adapter's
// framing, and can delay, withhold (drop), duplicate and reorder its
// responses, and drop connections, on command — so tests synchronise on
// events instead of sleeping.
package iso8583test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"slices"
	"sync"
	"time"

	moov "github.com/moov-io/iso8583"
	connection "github.com/moov-io/iso8583-connection"

	"github.com/payedge/payedge/biometric"
	bio "github.com/payedge/payedge/biometric/iso8583"
)

// ErrNotInitialized is returned by the zero Simulator.
var ErrNotInitialized = errors.New("iso8583test: not initialized (use Start)")

// Config configures a Simulator. The zero value is usable except Issuer,
// which is required.
type Config struct {
	// Issuer decides authorisations and reversals.
	Issuer *biometric.Issuer
	// Spec is the dialect; nil means the adapter's DefaultSpec.
	Spec *moov.MessageSpec
	// PANToToken maps field 2 back to the issuer's account key; nil uses
	// field 2 as the key.
	PANToToken func(pan string) (string, bool)
	// Now stamps field 7 of responses; nil means time.Now.
	Now func() time.Time
}

// Event is one request the simulator received.
type Event struct {
	MTI  string
	STAN string
}

// held is a response withheld from its connection.
type held struct {
	conn *connection.Connection
	msg  *moov.Message
}

// Simulator is a listening issuer. Its methods are safe for concurrent use.
type Simulator struct {
	cfg    Config
	ln     net.Listener
	events chan Event

	mu        sync.Mutex
	conns     map[net.Conn]bool
	delay     time.Duration
	jitter    time.Duration
	rng       *rand.Rand
	hold      int
	held      []held
	dup       int
	noReply   int
	accepted  int
	closed    bool
	wg        sync.WaitGroup
	malformed int
}

// Start listens on 127.0.0.1 (a free port) and serves until Close.
func Start(cfg Config) (*Simulator, error) {
	if cfg.Issuer == nil {
		return nil, errors.New("iso8583test: Config.Issuer required")
	}
	if cfg.Spec == nil {
		cfg.Spec = bio.DefaultSpec()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &Simulator{cfg: cfg, ln: ln, events: make(chan Event, 4096), conns: map[net.Conn]bool{}}
	s.wg.Add(1)
	go s.accept()
	return s, nil
}

// Addr returns host:port.
func (s *Simulator) Addr() string {
	if s.ln == nil {
		return ""
	}
	return s.ln.Addr().String()
}

// Events delivers every request received, in arrival order (buffered;
// events beyond the buffer are dropped).
func (s *Simulator) Events() <-chan Event { return s.events }

func (s *Simulator) accept() {
	defer s.wg.Done()
	for {
		nc, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			nc.Close()
			return
		}
		s.conns[nc] = true // before the connection can answer anything
		s.accepted++
		s.mu.Unlock()
		_, err = connection.NewFrom(nc, s.cfg.Spec, bio.LengthReader(0), bio.WriteLength,
			connection.InboundMessageHandler(s.handle),
			connection.ReadTimeout(24*time.Hour),
			connection.ErrorHandler(func(error) { s.mu.Lock(); s.malformed++; s.mu.Unlock() }),
			connection.ConnectionClosedHandler(func(*connection.Connection) { s.mu.Lock(); delete(s.conns, nc); s.mu.Unlock() }))
		if err != nil {
			s.mu.Lock()
			delete(s.conns, nc)
			s.mu.Unlock()
			nc.Close()
		}
	}
}

// Accepted returns how many connections the simulator has accepted.
func (s *Simulator) Accepted() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.accepted
}

// Errors returns how many read or write errors (malformed messages,
// closed connections) the simulator's connections reported.
func (s *Simulator) Errors() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.malformed
}

// SetDelay delays every later response by d.
func (s *Simulator) SetDelay(d time.Duration) { s.mu.Lock(); s.delay = d; s.mu.Unlock() }

// SetJitter adds a random extra delay in [0, d) to every later response
// (seeded, so runs are repeatable in distribution): responses then leave
// out of order.
func (s *Simulator) SetJitter(d time.Duration, seed uint64) {
	s.mu.Lock()
	s.jitter, s.rng = d, rand.New(rand.NewPCG(seed, 8583))
	s.mu.Unlock()
}

// Hold withholds the next n responses (the issuer still processes their
// requests) until Release: to the client they are lost.
func (s *Simulator) Hold(n int) { s.mu.Lock(); s.hold = n; s.mu.Unlock() }

// Held returns the number of responses withheld so far and not yet
// released. A test that must act only once a response is really withheld
// (the request's event comes before its answer) polls it.
func (s *Simulator) Held() int { s.mu.Lock(); defer s.mu.Unlock(); return len(s.held) }

// Release sends the withheld responses, newest first (out of order), on
// the connections their requests came from, and returns how many it sent.
func (s *Simulator) Release() int {
	s.mu.Lock()
	h := s.held
	s.held = nil
	s.mu.Unlock()
	n := 0
	for _, x := range slices.Backward(h) {
		if x.conn.Reply(x.msg) == nil {
			n++
		}
	}
	return n
}

// Duplicate sends each of the next n responses twice: the copy is queued
// with the withheld responses and goes out on Release, so it reaches the
// client after the original was matched (a copy racing the original into
// iso8583-connection's matcher can block its reader goroutine).
func (s *Simulator) Duplicate(n int) { s.mu.Lock(); s.dup = n; s.mu.Unlock() }

// Ignore makes the next n requests vanish unprocessed (no response ever).
func (s *Simulator) Ignore(n int) { s.mu.Lock(); s.noReply = n; s.mu.Unlock() }

// DropConnections closes every open connection abruptly (TCP close
// without a goodbye), as a network failure would.
func (s *Simulator) DropConnections() int {
	s.mu.Lock()
	var ncs []net.Conn
	for nc := range s.conns {
		ncs = append(ncs, nc)
		delete(s.conns, nc)
	}
	s.mu.Unlock()
	for _, nc := range ncs {
		nc.Close()
	}
	return len(ncs)
}

// WriteRaw writes b verbatim to every open connection (for malformed
// message and bad framing tests) and returns how many it wrote to.
func (s *Simulator) WriteRaw(b []byte) int {
	s.mu.Lock()
	var ncs []net.Conn
	for nc := range s.conns {
		ncs = append(ncs, nc)
	}
	s.mu.Unlock()
	n := 0
	for _, nc := range ncs {
		if _, err := nc.Write(b); err == nil {
			n++
		}
	}
	return n
}

// Close stops listening and closes every connection.
func (s *Simulator) Close() error {
	if s.ln == nil {
		return ErrNotInitialized
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	s.mu.Unlock()
	err := s.ln.Close()
	s.DropConnections()
	s.wg.Wait()
	return err
}

// handle answers one inbound request.
func (s *Simulator) handle(c *connection.Connection, m *moov.Message) {
	mti, _ := m.GetMTI()
	stan, _ := m.GetString(bio.FieldSTAN)
	select {
	case s.events <- Event{MTI: mti, STAN: stan}:
	default:
	}
	s.mu.Lock()
	if s.noReply > 0 {
		s.noReply--
		s.mu.Unlock()
		return
	}
	delay := s.delay
	if s.jitter > 0 {
		delay += time.Duration(s.rng.Int64N(int64(s.jitter)))
	}
	s.mu.Unlock()
	r, err := s.answer(m)
	if err != nil || r == nil {
		return
	}
	if delay > 0 {
		t := time.NewTimer(delay)
		<-t.C
	}
	s.mu.Lock()
	if s.hold > 0 {
		s.hold--
		s.held = append(s.held, held{c, r})
		s.mu.Unlock()
		return
	}
	dup := s.dup > 0
	if dup {
		s.dup--
	}
	s.mu.Unlock()
	if dup {
		s.mu.Lock()
		s.held = append(s.held, held{c, r})
		s.mu.Unlock()
	}
	_ = c.Reply(r)
}

// answer builds the response to m, or nil for a message it does not answer.
func (s *Simulator) answer(m *moov.Message) (*moov.Message, error) {
	now := s.cfg.Now()
	mti, _ := m.GetMTI()
	r := moov.NewMessage(s.cfg.Spec)
	field := func(id int) string { v, _ := m.GetString(id); return v }
	echo := func(ids ...int) error {
		for _, id := range ids {
			if v := field(id); v != "" {
				if err := r.Field(id, v); err != nil {
					return err
				}
			}
		}
		return nil
	}
	switch mti {
	case bio.MTIAuthRequest:
		r.MTI(bio.MTIAuthResponse)
		if err := echo(bio.FieldSTAN, bio.FieldRRN, bio.FieldTerminalID, bio.FieldAmount, bio.FieldCurrency); err != nil {
			return nil, err
		}
		req, err := bio.DecodeAuthRequest(m, now)
		code, approval := "30", "" // format error
		if err == nil {
			if s.cfg.PANToToken != nil {
				tok, ok := s.cfg.PANToToken(req.Token)
				if !ok {
					tok = ""
				}
				req.Token = tok
			}
			res := s.cfg.Issuer.Process(req)
			code, approval = res.ResponseCode, res.ApprovalCode
		}
		if approval != "" {
			_ = r.Field(bio.FieldApprovalCode, approval)
		}
		_ = r.Field(bio.FieldResponseCode, code)
		_ = r.Field(bio.FieldTransmission, now.UTC().Format("0102150405"))
		return r, nil
	case bio.MTIReversalRequest:
		r.MTI(bio.MTIReversalResponse)
		if err := echo(bio.FieldSTAN, bio.FieldRRN, bio.FieldTerminalID, bio.FieldOriginalData); err != nil {
			return nil, err
		}
		rev, err := bio.DecodeReversal(m, now)
		code := "30"
		if err == nil {
			code = s.cfg.Issuer.ProcessReversal(rev)
		}
		_ = r.Field(bio.FieldResponseCode, code)
		_ = r.Field(bio.FieldTransmission, now.UTC().Format("0102150405"))
		return r, nil
	case bio.MTINetworkRequest:
		r.MTI(bio.MTINetworkResponse)
		if err := echo(bio.FieldSTAN, bio.FieldTransmission, bio.FieldNetworkMgmtCode); err != nil {
			return nil, err
		}
		_ = r.Field(bio.FieldResponseCode, biometric.RespApproved)
		return r, nil
	}
	return nil, fmt.Errorf("iso8583test: MTI %q not answered", mti)
}

// DrainEvents discards the events received so far.
func (s *Simulator) DrainEvents() {
	for {
		select {
		case <-s.events:
		default:
			return
		}
	}
}

// WaitEvent waits for the next event with the given MTI (others are
// skipped), or ctx.
func (s *Simulator) WaitEvent(ctx context.Context, mti string) (Event, error) {
	for {
		select {
		case e := <-s.events:
			if e.MTI == mti {
				return e, nil
			}
		case <-ctx.Done():
			return Event{}, ctx.Err()
		}
	}
}
