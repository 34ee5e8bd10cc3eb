"""Award and contract (定标、中标通知书、合同): candidate publicity with objections, the award
decision under 实施条例第55条, the result notice, signed award and non-award letters, and the
contract record with its publicity."""
