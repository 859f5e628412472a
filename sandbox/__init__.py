"""Local, stateful emulators of eBay, FedEx, Yamato, Sagawa, SendGrid and OpenAI; local_s3.py
runs the S3 server (SeaweedFS)."""
