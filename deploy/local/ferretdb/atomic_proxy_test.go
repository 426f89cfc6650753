package main

import (
	"encoding/binary"
	"testing"
)

// opMsgWithCommand builds an OP_MSG whose body section is {<name>: 1}.
func opMsgWithCommand(name string, flags uint32, sequenceFirst bool) []byte {
	doc := []byte{0, 0, 0, 0, 0x10} // size placeholder, int32 element
	doc = append(doc, []byte(name)...)
	doc = append(doc, 0, 1, 0, 0, 0, 0)
	binary.LittleEndian.PutUint32(doc, uint32(len(doc)))

	body := binary.LittleEndian.AppendUint32(nil, flags)
	if sequenceFirst {
		seq := []byte{1, 0, 0, 0, 0}
		seq = append(seq, []byte("documents")...)
		seq = append(seq, 0)
		binary.LittleEndian.PutUint32(seq[1:], uint32(len(seq)-1))
		body = append(body, seq...)
	}
	body = append(body, 0)
	body = append(body, doc...)

	msg := make([]byte, headerSize)
	binary.LittleEndian.PutUint32(msg[0:], uint32(headerSize+len(body)))
	binary.LittleEndian.PutUint32(msg[12:], opMsg)
	return append(msg, body...)
}

func TestCommandNameFindsTheBodySection(t *testing.T) {
	for _, name := range []string{"update", "findAndModify", "find", "hello"} {
		if got := commandName(opMsgWithCommand(name, 0, false)); got != name {
			t.Errorf("commandName = %q, want %q", got, name)
		}
	}
	if got := commandName(opMsgWithCommand("insert", 0, true)); got != "insert" {
		t.Errorf("with a document sequence first: commandName = %q, want insert", got)
	}
}

func TestOnlyWritesAreSerialized(t *testing.T) {
	for name, want := range map[string]bool{"update": true, "findAndModify": true, "delete": true, "insert": true, "find": false, "getMore": false} {
		if got := serializedCommands[commandName(opMsgWithCommand(name, 0, false))]; got != want {
			t.Errorf("%s serialized = %v, want %v", name, got, want)
		}
	}
}

func TestMoreToComeIsRead(t *testing.T) {
	if moreToCome(opMsgWithCommand("insert", 0, false)) {
		t.Error("no flag, yet moreToCome")
	}
	if !moreToCome(opMsgWithCommand("insert", flagMoreToCome, false)) {
		t.Error("flag set, yet not moreToCome")
	}
}

func TestMalformedMessagesNameNoCommand(t *testing.T) {
	msg := opMsgWithCommand("update", 0, false)
	if got := commandName(msg[:len(msg)-8]); got != "" {
		t.Errorf("truncated message: commandName = %q", got)
	}
}
