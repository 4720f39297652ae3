"""Telegram Stars packages and the opaque order references invoices carry."""

from billing.orders import OrderReference, make_order_reference, read_order_reference
from billing.packages import Package, Packages, load_packages

__all__ = [
    "OrderReference",
    "Package",
    "Packages",
    "load_packages",
    "make_order_reference",
    "read_order_reference",
]
