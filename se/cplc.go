package se

import (
	"encoding/binary"
	"fmt"
)

// CPLCLen is the length of the Card Production Life Cycle data
// (GlobalPlatform Card Specification v2.3, table H-4 "CPLC data").
const CPLCLen = 42

// CPLC is the Card Production Life Cycle data a card returns for GET DATA
// tag 9F7F: who made the chip and the operating system, and when it was
// fabricated, embedded, pre-personalised and personalised. Dates are
// YDDD (last digit of the year, day of the year) in two bytes.
type CPLC struct {
	ICFabricator          uint16
	ICType                uint16
	OSID                  uint16
	OSReleaseDate         uint16
	OSReleaseLevel        uint16
	ICFabricationDate     uint16
	ICSerialNumber        uint32
	ICBatchIdentifier     uint16
	ModuleFabricator      uint16
	ModulePackagingDate   uint16
	ICCManufacturer       uint16
	ICEmbeddingDate       uint16
	ICPrePersonalizer     uint16
	ICPrePersoDate        uint16
	ICPrePersoEquipment   uint32
	ICPersonalizer        uint16
	ICPersonalizationDate uint16
	ICPersoEquipment      uint32
}

// MarshalBinary encodes the CPLC as GET DATA returns it: tag 9F7F, length
// 2A and the 42 data bytes in the order of the struct fields, big-endian.
func (c CPLC) MarshalBinary() []byte {
	b := make([]byte, 0, 3+CPLCLen)
	b = append(b, 0x9F, 0x7F, CPLCLen)
	b = binary.BigEndian.AppendUint16(b, c.ICFabricator)
	b = binary.BigEndian.AppendUint16(b, c.ICType)
	b = binary.BigEndian.AppendUint16(b, c.OSID)
	b = binary.BigEndian.AppendUint16(b, c.OSReleaseDate)
	b = binary.BigEndian.AppendUint16(b, c.OSReleaseLevel)
	b = binary.BigEndian.AppendUint16(b, c.ICFabricationDate)
	b = binary.BigEndian.AppendUint32(b, c.ICSerialNumber)
	b = binary.BigEndian.AppendUint16(b, c.ICBatchIdentifier)
	b = binary.BigEndian.AppendUint16(b, c.ModuleFabricator)
	b = binary.BigEndian.AppendUint16(b, c.ModulePackagingDate)
	b = binary.BigEndian.AppendUint16(b, c.ICCManufacturer)
	b = binary.BigEndian.AppendUint16(b, c.ICEmbeddingDate)
	b = binary.BigEndian.AppendUint16(b, c.ICPrePersonalizer)
	b = binary.BigEndian.AppendUint16(b, c.ICPrePersoDate)
	b = binary.BigEndian.AppendUint32(b, c.ICPrePersoEquipment)
	b = binary.BigEndian.AppendUint16(b, c.ICPersonalizer)
	b = binary.BigEndian.AppendUint16(b, c.ICPersonalizationDate)
	b = binary.BigEndian.AppendUint32(b, c.ICPersoEquipment)
	return b
}

// ParseCPLC decodes CPLC data with or without its 9F7F 2A header. Any other
// length or header is an error wrapping ErrCPLC.
func ParseCPLC(b []byte) (CPLC, error) {
	var c CPLC
	switch {
	case len(b) == 3+CPLCLen && b[0] == 0x9F && b[1] == 0x7F && b[2] == CPLCLen:
		b = b[3:]
	case len(b) == CPLCLen:
	default:
		return c, fmt.Errorf("%w: %d bytes", ErrCPLC, len(b))
	}
	u16 := func() uint16 { v := binary.BigEndian.Uint16(b); b = b[2:]; return v }
	u32 := func() uint32 { v := binary.BigEndian.Uint32(b); b = b[4:]; return v }
	c.ICFabricator = u16()
	c.ICType = u16()
	c.OSID = u16()
	c.OSReleaseDate = u16()
	c.OSReleaseLevel = u16()
	c.ICFabricationDate = u16()
	c.ICSerialNumber = u32()
	c.ICBatchIdentifier = u16()
	c.ModuleFabricator = u16()
	c.ModulePackagingDate = u16()
	c.ICCManufacturer = u16()
	c.ICEmbeddingDate = u16()
	c.ICPrePersonalizer = u16()
	c.ICPrePersoDate = u16()
	c.ICPrePersoEquipment = u32()
	c.ICPersonalizer = u16()
	c.ICPersonalizationDate = u16()
	c.ICPersoEquipment = u32()
	return c, nil
}
