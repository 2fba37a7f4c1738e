module github.com/payedge/payedge

go 1.26

require (
	github.com/disintegration/imaging v1.6.2 // indirect
	github.com/google/go-cmp v0.7.0 // indirect
	golang.org/x/crypto v0.59.0 // indirect
	golang.org/x/image v0.25.0 // indirect
	gonum.org/v1/gonum v0.17.0 // indirect
)
