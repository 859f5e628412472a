"""Local, stateful emulators of eBay, FedEx, Yamato, Sagawa, SendGrid and OpenAI (+ moto S3)."""
