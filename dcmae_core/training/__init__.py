"""Training: the one engine loop (train_one_epoch, evaluate), the pretraining and finetuning stages built on it,
the self-describing run folder (lock, config, metrics log, resume), and what a run sets up around them: devices and
distributed context, optimizer and learning-rate schedule, seeding, and the CPU allocator setting.
"""
