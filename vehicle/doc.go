// Package vehicle implements 5G inter-vehicle payment: a requesting vehicle
// asks its base station to collect a payment from a friend vehicle; the
// base station seals the request so that only the friend can open it and
// broadcasts it to every vehicle in coverage; the friend answers with
// payment information that the base station settles on a payment platform;
// and the base station grants the two a device-to-device (sidelink)
// channel.
//
// # Keys
//
// Every Vehicle holds a long-term X25519 key pair (RFC 7748); the network
// registers its VehicleInfo (ID, public key, key generation, account) in a
// FriendRegistry with the mutual friend relationships. The network's base
// stations share one X25519 network key, as 5G home networks share the key
// SUCI concealment uses (3GPP TS 33.501 Annex C). From the static
// Diffie-Hellman secret z = X25519(vehicle, network), HKDF-SHA256 (RFC 5869)
// derives a recipient-wide hint key and, per friend pair and key
// generation, an XChaCha20-Poly1305 key, a header-protection key, a
// confirmation key and a pair selector. Vehicle.Rotate moves to a new key
// generation while the previous one keeps opening the requests already in
// flight for RotationGrace; replay windows carry over (across a restart
// too, see Restarts).
//
// # Envelope
//
// The broadcast Envelope (versioned, bounded wire format, see Envelope)
// carries no identity: a fresh 24-byte nonce; a randomised key hint, the
// keyed hash SHA-256(hintKey ‖ nonce), that lets a vehicle reject an
// envelope for someone else with one hash and no allocation, whoever the
// recipient is (Vehicle.TryOpen returns ErrNotForMe); the pair selector
// masked by the same hash; the sequence number and request ID masked as
// QUIC protects packet numbers (RFC 9001 §5.4); and the ciphertext, whose
// associated data binds base-station ID, timestamp, sequence number and
// request ID. Two broadcasts of one request share no bytes but the public
// header, and the sealed identifiers have a fixed width, so an envelope's
// length depends on its payload size only, never on who pays whom. After
// authentication the recipient checks the freshness window
// (default ±5 min) and a 64-entry per-pair sliding replay window as IPsec
// ESP does (RFC 4303 §3.4.3).
//
// # Restarts
//
// Replay windows live in the Vehicle, so a restart must not forget them:
// an envelope the vehicle opened and answered before would open again
// within the freshness window. (Money is safe either way — the base station
// and the platform are idempotent by request ID — but the vehicle would
// re-prompt its user or answer twice.) Two modes:
//
//   - Without saved state (VehicleConfig.ReplayState empty), a vehicle
//     refuses every envelope sealed before it started, with *RestartError
//     (ErrSealedBeforeStart, also ErrStale). The cost: a request in flight
//     across the restart is refused once; the requester's resend — the base
//     station seals it again with a new sequence number and timestamp —
//     opens. The check compares the base station's timestamp with the
//     vehicle's clock at start, so it relies on the two clocks agreeing to
//     within the restart time: an envelope stamped by a base station whose
//     clock runs ahead by more than the downtime, and opened before the
//     restart, would pass it; with the vehicle's clock ahead instead,
//     requests sealed in that first moment are refused and resent.
//   - With saved state, nothing is lost and no clock is trusted: the
//     vehicle resumes with its replay windows (and friends, removed
//     friends' windows and key generations). Set VehicleConfig.ReplayStore
//     and TryOpen saves the state before it hands out a request
//     (write-ahead, as IPsec implementations persist their anti-replay
//     state), so whatever the vehicle acted on is in the last saved state;
//     restart with NewVehicleWithKey and ReplayState = store.Load(…). A
//     failed save hands nothing out (ErrReplayNotSaved) and moves no
//     window. (*Vehicle).ReplayState exports the same bytes for hosts that
//     persist by themselves: save it after TryOpen and before acting. A
//     state saved by a vehicle that started without one carries that start
//     time, and the vehicle restored from it keeps refusing what was sealed
//     before it: its windows know only what was opened since.
//
// The state is a versioned, bounded binary encoding (ReplayStateVersion,
// MaxReplayStateSize) with a CRC-32C; a damaged or foreign state is refused
// with *ReplayStateError or ErrReplayStateMismatch, never half-restored.
// Private keys are not part of it: they belong in the host's secure
// storage, which is why RotateWithKey takes a key the host generated and
// stored first, and VehicleConfig.PreviousKey brings back the previous
// generation for requests in flight across a restart during the rotation
// grace period. Hosts check their store with vehicle/vehicletest.TestReplayStore.
//
// # Actors
//
// BaseStation resolves the requester's friend, checks coverage, seals,
// verifies the friend's PaymentInfo (an HMAC under the pair's confirmation
// key), and settles it on a PaymentPlatform, idempotently by request ID:
// MemoryPlatform never moves money twice for one ID and conserves the sum
// of balances. ResourcePool is a mode-1 sidelink resource pool (3GPP TS
// 38.331 SL-ResourcePool, TS 38.321 §5.22.1): grants of one sub-channel ×
// slot, with use, release and expiry, coloured greedily over the
// interference graph so no two pairs within interference range share a
// resource; denials are counted.
//
// # Simulation
//
// Simulate runs all of it with real keys over vehicles on a highway and
// reports latency, decoding work, grant success and packet-reception ratio
// against distance under the 3GPP TR 37.885 highway LOS path-loss model
// (see HighwayLOSPathLoss); examples/vehicle plots it.
//
// # Quick start
//
//	netKey, _ := vehicle.GenerateKey(rand.Reader)
//	reg, _ := vehicle.NewMemoryRegistry(vehicle.RegistryConfig{})
//	bank, _ := vehicle.NewMemoryPlatform(vehicle.PlatformConfig{Now: time.Now})
//	bs, _ := vehicle.NewBaseStation(vehicle.BaseStationConfig{ID: "gNB-1", NetworkKey: netKey, Now: time.Now, Rand: rand.Reader}, reg, bank)
//	alice, _ := vehicle.NewVehicle(vehicle.DefaultVehicleConfig("alice", netKey.PublicKey(), time.Now, rand.Reader))
//	// … enrol alice and bob (reg.Enrol(ctx, info)), open accounts, reg.Befriend, alice.AddFriend("bob"), bob.AddFriend("alice")
//	req, _ := alice.Request("bob", 42_00, nil)
//	b, _ := bs.Request(ctx, req)          // broadcast b.Envelope to every vehicle in coverage
//	o, err := bob.TryOpen(b.Envelope)     // others get ErrNotForMe
//	info, _ := bob.Respond(o, true)       // uplink to the base station
//	res, err := bs.Pay(ctx, info)         // settled; res.Grant is the sidelink channel
//
// The package Example runs this end to end; Example_restart restarts a
// vehicle from its saved replay state. Hosts check their own
// FriendRegistry with vehicle/vehicletest.TestFriendRegistry.
package vehicle
