/* coursepack runtime (placeholder until the completion runtime lands). */
