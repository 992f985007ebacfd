"""Rehearse: practise technical interviews."""
