package main

// FerretDB 1.x runs update, findAndModify and delete as a read followed by a separate
// write, so two concurrent writers to one document can lose an update (two concurrent
// $inc of one field may count once; a version-guarded update may match a version that is
// already gone). MongoDB makes every single-document write atomic, and our services rely
// on it for their optimistic concurrency. This proxy restores that guarantee: it forwards
// the wire protocol to FerretDB and lets one write command at a time through, while reads
// flow freely. SQLite takes one writer at a time anyway, so little throughput is lost.

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
)

const (
	opMsg          = 2013
	headerSize     = 16
	maxMessage     = 48 * 1024 * 1024
	flagMoreToCome = 1 << 1
)

// serializedCommands are the commands that read and then write documents.
var serializedCommands = map[string]bool{
	"insert":        true,
	"update":        true,
	"delete":        true,
	"findAndModify": true,
	"findandmodify": true,
}

type atomicProxy struct {
	backend string // Unix socket FerretDB listens on
	writes  sync.Mutex
	logger  *slog.Logger
}

// serve accepts clients until the listener is closed.
func (p *atomicProxy) serve(listener net.Listener) error {
	for {
		client, err := listener.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return nil
			}
			return err
		}
		go p.handle(client)
	}
}

func (p *atomicProxy) handle(client net.Conn) {
	defer client.Close()
	backend, err := net.Dial("unix", p.backend)
	if err != nil {
		p.logger.Error("cannot reach FerretDB", "error", err)
		return
	}
	defer backend.Close()
	for {
		request, err := readMessage(client)
		if err != nil {
			if !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) {
				p.logger.Debug("client connection ended", "error", err)
			}
			return
		}
		if err := p.roundTrip(request, client, backend); err != nil {
			p.logger.Debug("backend connection ended", "error", err)
			return
		}
	}
}

// roundTrip sends one request and relays its replies, holding the write lock for writes.
func (p *atomicProxy) roundTrip(request []byte, client, backend net.Conn) error {
	if serializedCommands[commandName(request)] {
		p.writes.Lock()
		defer p.writes.Unlock()
	}
	if _, err := backend.Write(request); err != nil {
		return err
	}
	if moreToCome(request) {
		return nil // fire-and-forget: no reply
	}
	for {
		reply, err := readMessage(backend)
		if err != nil {
			return err
		}
		if _, err := client.Write(reply); err != nil {
			return err
		}
		if !moreToCome(reply) {
			return nil
		}
	}
}

func readMessage(r io.Reader) ([]byte, error) {
	var header [headerSize]byte
	if _, err := io.ReadFull(r, header[:]); err != nil {
		return nil, err
	}
	length := int(int32(binary.LittleEndian.Uint32(header[0:4])))
	if length < headerSize || length > maxMessage {
		return nil, fmt.Errorf("bad message length %d", length)
	}
	message := make([]byte, length)
	copy(message, header[:])
	if _, err := io.ReadFull(r, message[headerSize:]); err != nil {
		return nil, err
	}
	return message, nil
}

func opCode(message []byte) int32 {
	return int32(binary.LittleEndian.Uint32(message[12:16]))
}

func moreToCome(message []byte) bool {
	if opCode(message) != opMsg || len(message) < headerSize+4 {
		return false
	}
	return binary.LittleEndian.Uint32(message[headerSize:headerSize+4])&flagMoreToCome != 0
}

// commandName is the first key of an OP_MSG's body section (kind 0), or "".
func commandName(message []byte) string {
	if opCode(message) != opMsg {
		return ""
	}
	pos := headerSize + 4 // after flagBits
	for pos < len(message) {
		kind := message[pos]
		pos++
		if pos+4 > len(message) {
			return ""
		}
		size := int(int32(binary.LittleEndian.Uint32(message[pos : pos+4])))
		if size < 5 || pos+size > len(message) {
			return ""
		}
		if kind == 0 {
			// BSON document: int32 size, then elements of type byte + cstring name.
			element := pos + 4
			if element+1 >= pos+size {
				return ""
			}
			name := message[element+1 : pos+size]
			for i, b := range name {
				if b == 0 {
					return string(name[:i])
				}
			}
			return ""
		}
		pos += size // kind 1: a document sequence, its size includes itself
	}
	return ""
}
