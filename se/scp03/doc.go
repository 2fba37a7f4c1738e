// Package scp03 implements the GlobalPlatform Secure Channel Protocol 03
// (SCP03), host and card side, with the AES-CMAC and key derivation it is
// built on.
package scp03
