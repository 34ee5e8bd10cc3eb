"""Expert pool (专家库), expert draws (专家抽取) and their notification (语音通知 → 短信确认)."""
