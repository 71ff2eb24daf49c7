"""Marketing's writes, one module per subject: campaigns (and coupons), sending (and its
sweeps), preview (and the test send), loyalty, leads. Import from the module
(marketing.services.sending), not from the package."""
