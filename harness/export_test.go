package harness

// RoundOrder is roundOrder, for the black-box tests.
var RoundOrder = roundOrder
