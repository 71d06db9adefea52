package ot_test

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/scribe-notes/scribe/ot"
)

func Example() {
	// Two people edit "Hello world" at the same time.
	doc := "Hello world"
	var alice, bob ot.Operation
	_ = json.Unmarshal([]byte(`[5,",",6]`), &alice) // "Hello, world"
	_ = json.Unmarshal([]byte(`[6,-5,"😀"]`), &bob)  // "Hello 😀"

	// The server commits Alice's edit first, so Bob's is transformed over it.
	_, bobPrime, _ := ot.Transform(alice, bob)
	afterAlice, _ := ot.Apply(doc, alice)
	final, _ := ot.Apply(afterAlice, bobPrime)
	fmt.Println(final, bobPrime, ot.Len16(final))
	// Output: Hello, 😀 [7,"😀",-5] 9
}

func ExampleOperation_UnmarshalJSON() {
	var op ot.Operation
	err := json.Unmarshal([]byte(`["\ud83d", 3]`), &op) // a lone surrogate
	var e *ot.Error
	if errors.As(err, &e) {
		fmt.Println(e.Code, e.Message)
	}
	// Output: EINVALID operation item 0: lone surrogate in string
}

func ExampleNewBuilder() {
	op, _ := ot.NewBuilder().Retain(2).Delete(1).Insert("X").Retain(1).Build()
	fmt.Println(op, op.BaseLen(), op.TargetLen())
	// Output: [2,"X",-1,1] 4 4
}

func ExampleTransformIndex() {
	op, _ := ot.New(2, "xy", 3) // insert "xy" at 2 in a 5-unit document
	fmt.Println(ot.TransformIndex(1, op), ot.TransformIndex(2, op), ot.TransformIndex(4, op))
	// Output: 1 4 6
}

func ExampleDocument() {
	d, _ := ot.NewDocument("a😀b")
	op, _ := ot.New(3, "日", 1)
	inv, _ := d.Invert(op)
	_ = d.Apply(op)
	fmt.Println(d.String(), d.Len())
	_ = d.Apply(inv)
	fmt.Println(d.String(), d.Len())
	// Output:
	// a😀日b 5
	// a😀b 4
}
