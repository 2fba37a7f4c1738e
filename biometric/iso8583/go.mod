module github.com/payedge/payedge/biometric/iso8583

go 1.26.0

require (
	github.com/moov-io/iso8583 v0.25.0
	github.com/moov-io/iso8583-connection v0.9.0
	github.com/payedge/payedge v0.0.0
)

require (
	github.com/yerden/go-util v1.1.4 // indirect
	golang.org/x/crypto v0.59.0 // indirect
	golang.org/x/sys v0.50.0 // indirect
	golang.org/x/text v0.44.0 // indirect
	gonum.org/v1/gonum v0.17.0 // indirect
)

replace github.com/payedge/payedge => ../..
