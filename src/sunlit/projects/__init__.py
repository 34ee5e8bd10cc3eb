"""Projects: 项目, 招标项目, 标段（包）, codes, acceptance (受理), venues, restrictions."""
