"""Marketing's writes, one module per subject: campaigns (and coupons), sending, loyalty,
leads. Import from the module (marketing.services.sending), not from the package."""
