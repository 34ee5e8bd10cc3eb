"""Notices: tender documents, 招标公告, 澄清与修改, 终止公告, downloads, change feed."""
