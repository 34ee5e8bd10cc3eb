"""Organizations (市场主体), persons, roles, certificates, trust store and login."""
