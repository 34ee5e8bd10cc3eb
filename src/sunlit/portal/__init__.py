"""Public pages (公共服务): home, and later notices, results and statistics."""
