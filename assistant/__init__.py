"""The conversation: a case in, a referral out; pure logic over knowledge/."""
