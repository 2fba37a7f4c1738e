package se_test

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/payedge/payedge/se"
	"github.com/payedge/payedge/se/apdu"
)

// modelApplet answers every command with its tag and the channel, and
// checks the element's calls: Deselect and Process only on channels where
// it is selected, Select never twice without a Deselect between.
type modelApplet struct {
	tag    byte
	refuse bool
	on     [apdu.MaxChannel + 1]bool
	errs   []string
}

func (a *modelApplet) Select(_ context.Context, s se.Selection) apdu.Response {
	if a.on[s.Channel] {
		a.errs = append(a.errs, fmt.Sprintf("applet %d: Select on channel %d where it is selected", a.tag, s.Channel))
	}
	if a.refuse {
		return apdu.Response{SW: apdu.SWConditionsNotSatisfied}
	}
	a.on[s.Channel] = true
	return apdu.Response{SW: apdu.SWSuccess}
}

func (a *modelApplet) Deselect(_ context.Context, ch int) {
	if !a.on[ch] {
		a.errs = append(a.errs, fmt.Sprintf("applet %d: Deselect on channel %d where it is not selected", a.tag, ch))
	}
	a.on[ch] = false
}

func (a *modelApplet) Process(_ context.Context, cmd apdu.Command) apdu.Response {
	ch := se.ChannelOf(cmd)
	if ch < 0 || !a.on[ch] {
		a.errs = append(a.errs, fmt.Sprintf("applet %d: Process on channel %d where it is not selected", a.tag, ch))
	}
	return apdu.Response{Data: []byte{a.tag, byte(ch)}, SW: apdu.SWSuccess}
}

// elemModel is an independent model of ISO/IEC 7816-4 logical channels and
// SELECT by DF name over a fixed applet list (install order).
type elemModel struct {
	max  int
	aids [][]byte
	ref  []bool // applet refuses selection
	def  int
	open [apdu.MaxChannel + 1]bool
	sel  [apdu.MaxChannel + 1]int // applet index or −1
}

func (m *elemModel) selectOn(ch, i int) uint16 {
	m.sel[ch] = -1 // the previous applet is deselected first
	if m.ref[i] {
		return apdu.SWConditionsNotSatisfied
	}
	m.sel[ch] = i
	return apdu.SWSuccess
}

// step returns the expected status word and, for a command an applet
// answers, the applet index (else −1).
func (m *elemModel) step(cmd apdu.Command) (uint16, int, []byte) {
	ch, err := apdu.Channel(cmd.CLA)
	if err != nil {
		return apdu.SWCLANotSupported, -1, nil
	}
	if ch >= m.max || !m.open[ch] {
		return apdu.SWLogicalChannelNotSupported, -1, nil
	}
	inter := cmd.CLA&0x80 == 0 && !apdu.SecureMessaging(cmd.CLA)
	own := cmd.INS == 0x70 || (cmd.INS == 0xA4 && cmd.P1 == 0x04)
	switch {
	case inter && own && cmd.CLA&0x10 != 0:
		return 0x6884, -1, nil // no chaining of the element's own commands
	case inter && cmd.INS == 0x70:
		if len(cmd.Data) > 0 {
			return apdu.SWWrongLength, -1, nil
		}
		switch cmd.P1 {
		case 0x00:
			n := int(cmd.P2)
			switch {
			case n == 0 && cmd.Ne == 0:
				return apdu.SWWrongLength, -1, nil
			case n == 0:
				for c := 1; c < m.max; c++ {
					if !m.open[c] {
						n = c
						break
					}
				}
				if n == 0 {
					return apdu.SWFunctionNotSupported, -1, nil
				}
			case n > 19:
				return apdu.SWIncorrectP1P2, -1, nil
			case n >= m.max:
				return apdu.SWLogicalChannelNotSupported, -1, nil
			case m.open[n]:
				return apdu.SWConditionsNotSatisfied, -1, nil
			}
			m.open[n] = true
			m.sel[n] = -1
			from := m.def
			if ch != 0 {
				from = m.sel[ch]
			}
			if from >= 0 {
				m.selectOn(n, from)
			}
			if cmd.P2 == 0 {
				return apdu.SWSuccess, -1, []byte{byte(n)}
			}
			return apdu.SWSuccess, -1, nil
		case 0x80:
			n := int(cmd.P2)
			if n == 0 {
				n = ch
			}
			switch {
			case n == 0 || n > 19:
				return apdu.SWIncorrectP1P2, -1, nil
			case n >= m.max || !m.open[n]:
				return apdu.SWLogicalChannelNotSupported, -1, nil
			}
			m.open[n] = false
			m.sel[n] = -1
			return apdu.SWSuccess, -1, nil
		}
		return apdu.SWIncorrectP1P2, -1, nil
	case inter && cmd.INS == 0xA4 && cmd.P1 == 0x04:
		occ := cmd.P2 & 0x03
		if cmd.P2&0xF0 != 0 || (occ != 0 && occ != 2) {
			return apdu.SWIncorrectP1P2, -1, nil
		}
		target := -1
		switch n := len(cmd.Data); {
		case n == 0:
			target = m.def
		case n < 5 || n > 16:
			return apdu.SWWrongLength, -1, nil
		default:
			start := 0
			if cur := m.sel[ch]; occ == 2 && cur >= 0 && bytes.HasPrefix(m.aids[cur], cmd.Data) {
				start = cur + 1
			}
			for i := start; i < len(m.aids); i++ {
				if bytes.HasPrefix(m.aids[i], cmd.Data) {
					target = i
					break
				}
			}
		}
		if target < 0 {
			return apdu.SWFileNotFound, -1, nil // the current selection stays
		}
		return m.selectOn(ch, target), -1, nil
	}
	if m.sel[ch] < 0 {
		return apdu.SWConditionsNotSatisfied, -1, nil
	}
	return apdu.SWSuccess, m.sel[ch], nil
}

// TestMemoryAgainstModel drives Memory with random APDU sequences
// (MANAGE CHANNEL open/close, SELECT by full, partial, unknown and
// malformed AIDs with first/next occurrence, commands on closed and
// out-of-range channels, secure-messaging and reserved class bytes,
// extended lengths) and compares every status word and routing with an
// independent model.
func TestMemoryAgainstModel(t *testing.T) {
	ctx := context.Background()
	for _, maxCh := range []int{1, 4, 20} {
		for seed := range uint64(20) {
			rng := rand.New(rand.NewPCG(seed, uint64(maxCh)))
			mem, mod, apps := newModelPair(t, maxCh, seed%2 == 0)
			for step := range 400 {
				cmd := randomCommand(rng, modelAIDs, mod.open[:])
				if err := checkModelStep(ctx, mem, mod, apps, cmd); err != nil {
					t.Fatalf("max %d seed %d step %d: %v", maxCh, seed, step, err)
				}
			}
			// Selection state agrees with the model on every channel.
			for i, a := range apps {
				for ch := range a.on {
					if a.on[ch] != (mod.sel[ch] == i) {
						t.Fatalf("max %d seed %d: applet %d selected on channel %d: %v, model %v", maxCh, seed, i, ch, a.on[ch], mod.sel[ch] == i)
					}
				}
			}
			_ = mem.Close()
			for i, a := range apps {
				for ch, on := range a.on {
					if on {
						t.Errorf("applet %d still selected on channel %d after Close", i, ch)
					}
				}
			}
		}
	}
}

// modelAIDs share prefixes so that partial SELECT has several
// occurrences; the fourth applet refuses selection.
var modelAIDs = [][]byte{
	{0xA0, 0, 0, 0, 0x01, 0x01},
	{0xA0, 0, 0, 0, 0x01, 0x02},
	{0xA0, 0, 0, 0, 0x02, 0x01},
	{0xA0, 0, 0, 0, 0x01, 0x03, 0x09},
	{0xA0, 0, 0, 0, 0x01, 0x01, 0x07, 0x07, 0x07, 0x07, 0x07, 0x07, 0x07, 0x07, 0x07, 0x07},
}

// newModelPair returns a Memory with the model applets installed and the
// model of it.
func newModelPair(t testing.TB, maxCh int, withDefault bool) (*se.Memory, *elemModel, []*modelApplet) {
	mem, err := se.NewMemory(se.MemoryConfig{MaxChannels: maxCh})
	if err != nil {
		t.Fatal(err)
	}
	mod := &elemModel{max: maxCh, aids: modelAIDs, ref: make([]bool, len(modelAIDs)), def: -1}
	for i := range mod.sel {
		mod.sel[i] = -1
	}
	mod.open[0] = true
	var apps []*modelApplet
	for i, aid := range modelAIDs {
		a := &modelApplet{tag: byte(i), refuse: i == 3}
		mod.ref[i] = a.refuse
		def := i == 0 && withDefault
		if def {
			mod.def = 0
			mod.sel[0] = 0
		}
		if err := mem.Install(aid, a, se.InstallOptions{Default: def}); err != nil {
			t.Fatal(err)
		}
		apps = append(apps, a)
	}
	return mem, mod, apps
}

// checkModelStep sends cmd to mem and mod and reports any difference in
// status word, response data or routing, and any applet-call violation.
func checkModelStep(ctx context.Context, mem *se.Memory, mod *elemModel, apps []*modelApplet, cmd apdu.Command) error {
	wantSW, wantApp, wantData := mod.step(cmd)
	resp, err := mem.Transmit(ctx, cmd)
	if err != nil {
		return fmt.Errorf("%v: %w", cmd, err)
	}
	if resp.SW != wantSW {
		return fmt.Errorf("%v: SW %04X, model %04X", cmd, resp.SW, wantSW)
	}
	switch {
	case wantApp >= 0:
		if want := []byte{byte(wantApp), byte(se.ChannelOf(cmd))}; !bytes.Equal(resp.Data, want) {
			return fmt.Errorf("%v answered by % X, model: applet %d", cmd, resp.Data, wantApp)
		}
	case wantData != nil:
		if !bytes.Equal(resp.Data, wantData) {
			return fmt.Errorf("%v: data % X, model % X", cmd, resp.Data, wantData)
		}
	}
	for _, a := range apps {
		if len(a.errs) > 0 {
			return fmt.Errorf("after %v: %s", cmd, a.errs[0])
		}
	}
	return nil
}

// FuzzMemoryModel sends fuzzed APDU sequences (one length byte before each
// encoded command; the first byte picks MaxChannels, 1 + b7..b1 mod 20,
// and b8 a default applet) to Memory and to the model, and fails on any difference in
// status word, routing or Select/Deselect order — a cross-channel leak
// shows up as a command answered by the wrong applet or channel.
func FuzzMemoryModel(f *testing.F) {
	seq := func(cfg byte, cmds ...apdu.Command) []byte {
		b := []byte{cfg}
		for _, c := range cmds {
			raw, _ := c.MarshalBinary()
			b = append(b, byte(len(raw)))
			b = append(b, raw...)
		}
		return b
	}
	f.Add(seq(0x93, apdu.Command{INS: 0x70, Ne: 1}, selectCmd(0x01, 0, modelAIDs[0][:5]), selectCmd(0x01, 2, modelAIDs[0][:5]), apdu.Command{CLA: 0x81, INS: 0x01}))
	f.Add(seq(0x04, apdu.Command{INS: 0x70, P2: 3}, apdu.Command{CLA: 0x03, INS: 0x70, P2: 2}, apdu.Command{CLA: 0x82, INS: 0x01}, apdu.Command{CLA: 0x02, INS: 0x70, P1: 0x80}))
	f.Add(seq(0x00, selectCmd(0x00, 0, modelAIDs[3]), apdu.Command{CLA: 0x80, INS: 0x01}, apdu.Command{CLA: 0x10, INS: 0xA4, P1: 4, Data: modelAIDs[1]}))
	f.Add(seq(0x13, apdu.Command{INS: 0x70, P2: 19}, selectCmd(0x4F, 0, modelAIDs[4]), apdu.Command{CLA: 0xCF, INS: 0x01, Data: make([]byte, 300)}))
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) < 1 || len(data) > 4096 {
			t.Skip()
		}
		ctx := context.Background()
		maxCh := 1 + int(data[0]&0x7F)%20
		mem, mod, apps := newModelPair(t, maxCh, data[0]&0x80 != 0)
		data = data[1:]
		for len(data) > 0 {
			n := min(int(data[0]), len(data)-1)
			raw := data[1 : 1+n]
			data = data[1+n:]
			cmd, err := apdu.ParseCommand(raw)
			if err != nil {
				continue
			}
			if err := checkModelStep(ctx, mem, mod, apps, cmd); err != nil {
				t.Fatal(err)
			}
		}
		_ = mem.Close()
		for i, a := range apps {
			for ch, on := range a.on {
				if on {
					t.Fatalf("applet %d still selected on channel %d after Close", i, ch)
				}
			}
		}
	})
}

func randomCommand(rng *rand.Rand, aids [][]byte, open []bool) apdu.Command {
	ch := rng.IntN(20)
	if rng.IntN(4) > 0 { // mostly an open channel
		var o []int
		for c, ok := range open {
			if ok {
				o = append(o, c)
			}
		}
		ch = o[rng.IntN(len(o))]
	}
	cla, _ := apdu.WithChannel(0x00, ch)
	switch rng.IntN(12) {
	case 0:
		cla |= 0x80
	case 1:
		cla = apdu.SetSecureMessaging(cla)
	case 2:
		cla = []byte{0xFF, 0x20, 0x3F, 0x10, 0x0C, 0xE0}[rng.IntN(6)]
	}
	cmd := apdu.Command{CLA: cla}
	switch rng.IntN(3) {
	case 0: // MANAGE CHANNEL
		cmd.INS = 0x70
		cmd.P1 = []byte{0x00, 0x00, 0x00, 0x80, 0x80, 0x40}[rng.IntN(6)]
		if rng.IntN(2) == 0 {
			cmd.P2 = byte(rng.IntN(23))
		}
		if rng.IntN(3) > 0 {
			cmd.Ne = 1
		}
		if rng.IntN(20) == 0 {
			cmd.Data = []byte{1}
		}
	case 1: // SELECT
		cmd.INS, cmd.P1, cmd.Ne = 0xA4, 0x04, 256
		if rng.IntN(15) == 0 {
			cmd.P1 = 0x00
		}
		cmd.P2 = []byte{0x00, 0x00, 0x02, 0x02, 0x0C, 0x0E, 0x01, 0x10}[rng.IntN(8)]
		aid := aids[rng.IntN(len(aids))]
		switch rng.IntN(6) {
		case 0:
			cmd.Data = aid
		case 1, 2:
			cmd.Data = aid[:5+rng.IntN(len(aid)-4)]
		case 3:
			cmd.Data = []byte{0xA0, 0, 0, 0, 0x03}
		case 4:
			cmd.Data = make([]byte, []int{1, 4, 17, 300}[rng.IntN(4)])
		}
		if rng.IntN(10) == 0 {
			cmd.Ne = 65536 // extended
		}
	default:
		cmd.INS = byte(rng.IntN(256))
		if cmd.INS == 0x70 || cmd.INS == 0xA4 {
			cmd.INS = 0x01
		}
		if rng.IntN(4) == 0 {
			cmd.Data = make([]byte, 256+rng.IntN(1000)) // extended length
		}
	}
	return cmd
}
